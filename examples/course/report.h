#pragma once
// Printing for the course examples and the walkthrough: number formatting, and a Report that
// writes to a stream and keeps every place where the notes print something other than the exact
// value (a rounded or miscomputed number, a mislabelled derivative, a wrong index).
//
// Example:
//   Report r(std::cout);
//   r.begin_note("000", "CS188 Fall 2017, Section 12: Perceptrons / Neural Networks");
//   r.section("Section 1: Perceptron");
//   r << "Q1. score = " << num(-6) << "\n";
//   r.notes_print("section 1, Q1", "g(-5)", "g(-6)", "2 * -1 + -2 * 2 = -6");

#include <cstddef>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace xgrad::examples {

/// printf-style formatting into a std::string.
template <class... A>
std::string fmt(const char* format, A... args) {
    const int n = std::snprintf(nullptr, 0, format, args...);
    std::string s(static_cast<std::size_t>(n > 0 ? n : 0) + 1, '\0');
    std::snprintf(&s[0], s.size(), format, args...);
    s.pop_back();
    return s;
}

/// A number with up to 10 significant digits: 0.5, -6, 0.119202922.
inline std::string num(double v) { return fmt("%.10g", v); }

/// "[a, b, c]", each element as num().
inline std::string vec(const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + num(v[i]);
    return s + "]";
}

/// A matrix given by rows: "[[a, b], [c, d]]".
inline std::string mat(const std::vector<std::vector<double>>& rows) {
    std::string s = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) s += (i ? ", " : "") + vec(rows[i]);
    return s + "]";
}

/// One place where a note prints something other than the exact value or the meant symbol.
struct Discrepancy {
    std::string note;     ///< "000" ... "004"
    std::string where;    ///< "section 1, Q1"
    std::string printed;  ///< what the note prints
    std::string exact;    ///< the exact value, or the meant symbol
    std::string why;      ///< how the two relate (may be empty)
};

/// A stream for the course examples that also records the notes' discrepancies.
class Report {
public:
    explicit Report(std::ostream& out) : out_(out) {}

    template <class T>
    Report& operator<<(const T& v) {
        out_ << v;
        return *this;
    }

    /// Starts a note: prints its title and makes it the note of later discrepancies.
    void begin_note(const std::string& note, const std::string& title) {
        note_ = note;
        out_ << "\n######## Note " << note << ": " << title << "\n";
    }

    /// A section header inside the current note: "== Note 000 | Section 1: Perceptron ==".
    void section(const std::string& title) {
        out_ << "\n== Note " << note_ << " | " << title << " ==\n";
    }

    /// A rounded or miscomputed number: prints
    /// "    NOTE: the notes print <printed>; exact: <exact> (<why>)" and records it.
    void notes_print(const std::string& where, const std::string& printed, const std::string& exact,
                     const std::string& why = "") {
        record("exact", where, printed, exact, why);
    }

    /// A mislabelled symbol or index: "    NOTE: the notes print <printed>; meant: <meant>".
    void notes_mean(const std::string& where, const std::string& printed, const std::string& meant,
                    const std::string& why = "") {
        record("meant", where, printed, meant, why);
    }

    const std::vector<Discrepancy>& discrepancies() const { return discrepancies_; }

private:
    void record(const char* label, const std::string& where, const std::string& printed,
                const std::string& value, const std::string& why) {
        out_ << "    NOTE: the notes print " << printed << "; " << label << ": " << value;
        if (!why.empty()) out_ << " (" << why << ")";
        out_ << "\n";
        discrepancies_.push_back({note_, where, printed, value, why});
    }

    std::ostream& out_;
    std::string note_ = "?";
    std::vector<Discrepancy> discrepancies_;
};

}  // namespace xgrad::examples
