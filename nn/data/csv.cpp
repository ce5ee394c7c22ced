#include "nn/data/csv.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "nn/data/file_util.h"

namespace xgrad::data {

namespace {

// One cell of a row: its text (quotes removed, "" not yet unescaped).
struct Cell {
    std::string_view text;
    bool quoted = false;
};

class Parser {
public:
    Parser(std::string_view text, const std::string& source, const CsvOptions& options)
        : text_(text), source_(source), options_(options) {}

    CsvTable run() {
        CsvTable table;
        bool header_pending = options_.header;
        std::size_t header_line = 0, first_line = 0, ncols = 0;
        std::vector<double> values;
        std::vector<Cell> cells;
        std::size_t pos = 0;
        while (pos < text_.size()) {
            ++line_;
            std::size_t eol = text_.find('\n', pos);
            if (eol == std::string_view::npos) eol = text_.size();
            std::string_view row = text_.substr(pos, eol - pos);
            pos = eol + 1;
            if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
            if (trim(row).empty()) continue;
            split(row, &cells);
            if (header_pending) {
                for (const Cell& c : cells) table.columns.push_back(unescape(c));
                header_pending = false;
                header_line = line_;
                ncols = cells.size();
                continue;
            }
            if (first_line == 0) {
                if (options_.header && cells.size() != ncols) {
                    fail_line("the row has " + std::to_string(cells.size()) +
                              " cells but the header (line " + std::to_string(header_line) +
                              ") names " + std::to_string(ncols) + " columns");
                }
                first_line = line_;
                ncols = cells.size();
            } else if (cells.size() != ncols) {
                fail_line("ragged row (got " + std::to_string(cells.size()) + " cells, expected " +
                          std::to_string(ncols) + " as in line " + std::to_string(first_line) +
                          ")");
            }
            for (std::size_t c = 0; c < cells.size(); ++c) values.push_back(number(cells[c], c));
        }
        const std::size_t rows = ncols == 0 ? 0 : values.size() / ncols;
        table.values = Array::from_values(options_.dtype, Shape{rows, ncols}, values);
        return table;
    }

private:
    std::string_view trim(std::string_view s) const {
        const auto blank = [&](char ch) {
            return (ch == ' ' || ch == '\t') && ch != options_.delimiter;
        };
        while (!s.empty() && blank(s.front())) s.remove_prefix(1);
        while (!s.empty() && blank(s.back())) s.remove_suffix(1);
        return s;
    }

    void split(std::string_view row, std::vector<Cell>* cells) const {
        cells->clear();
        std::size_t pos = 0;
        for (;;) {
            const std::size_t column = cells->size();
            std::size_t end = row.find(options_.delimiter, pos);
            std::string_view raw =
                row.substr(pos, end == std::string_view::npos ? row.size() - pos : end - pos);
            std::string_view cell = trim(raw);
            if (!cell.empty() && cell.front() == '"') {
                // A quoted cell: find the closing quote (a '"' not followed by another '"').
                const std::size_t open = static_cast<std::size_t>(cell.data() - row.data());
                std::size_t q = open + 1;
                for (;;) {
                    q = row.find('"', q);
                    if (q == std::string_view::npos) fail_cell(column, "unterminated quote");
                    if (q + 1 < row.size() && row[q + 1] == '"') {
                        q += 2;
                        continue;
                    }
                    break;
                }
                cells->push_back({row.substr(open + 1, q - open - 1), true});
                end = row.find(options_.delimiter, q + 1);
                const std::string_view after = trim(row.substr(
                    q + 1, end == std::string_view::npos ? row.size() - q - 1 : end - q - 1));
                if (!after.empty()) {
                    fail_cell(column,
                              "text after the closing quote (got \"" + shorten(after) + "\")");
                }
            } else {
                cells->push_back({cell, false});
            }
            if (end == std::string_view::npos) return;
            pos = end + 1;
        }
    }

    static std::string unescape(const Cell& c) {
        std::string s;
        for (std::size_t i = 0; i < c.text.size(); ++i) {
            s += c.text[i];
            if (c.quoted && c.text[i] == '"') ++i;  // "" -> "
        }
        return s;
    }

    double number(const Cell& cell, std::size_t column) const {
        std::string_view s = cell.quoted ? trim(cell.text) : cell.text;
        if (s.empty()) fail_cell(column, "empty cell (expected a number)");
        std::string_view digits = s;
        if (digits.front() == '+') {  // from_chars rejects a leading '+'; "+-1" stays an error
            digits.remove_prefix(1);
            if (digits.empty() || digits.front() == '-') digits = s;
        }
        double v = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (ec == std::errc::invalid_argument || end != digits.data() + digits.size()) {
            fail_cell(column, "not a number (got \"" + shorten(s) + "\")");
        }
        if (ec == std::errc::result_out_of_range) {
            fail_cell(column, "out of range for float64 (got \"" + shorten(s) + "\")");
        }
        if (options_.dtype == f32 && std::isfinite(v) &&
            std::fabs(v) > std::numeric_limits<float>::max()) {
            fail_cell(column, "out of range for float32 (got \"" + shorten(s) + "\")");
        }
        return v;
    }

    static std::string shorten(std::string_view s) {
        return s.size() <= 40 ? std::string(s) : std::string(s.substr(0, 37)) + "...";
    }

    [[noreturn]] void fail_line(const std::string& problem) const {
        throw std::runtime_error("read_csv: " + source_ + ": line " + std::to_string(line_) + ": " +
                                 problem);
    }
    [[noreturn]] void fail_cell(std::size_t column, const std::string& problem) const {
        throw std::runtime_error("read_csv: " + source_ + ": line " + std::to_string(line_) +
                                 ", column " + std::to_string(column + 1) + ": " + problem);
    }

    std::string_view text_;
    const std::string& source_;
    const CsvOptions& options_;
    std::size_t line_ = 0;
};

}  // namespace

std::size_t CsvTable::column(const std::string& name) const {
    std::string names;
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i] == name) return i;
        names += (i ? ", " : "") + columns[i];
    }
    throw std::invalid_argument("CsvTable::column: no column named \"" + name + "\" (got " +
                                (columns.empty() ? "no header" : names) + ")");
}

CsvTable parse_csv(std::string_view text, const std::string& source, const CsvOptions& options) {
    const char d = options.delimiter;
    if (d == '"' || d == '\n' || d == '\r' || d == '\0') {
        throw std::invalid_argument("read_csv: bad delimiter (got code " +
                                    std::to_string(static_cast<int>(d)) +
                                    ", expected a character such as ',', ';' or '\\t')");
    }
    return Parser(text, source, options).run();
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
    detail::InputFile in(path, "read_csv");
    const std::vector<unsigned char> bytes = in.read_all();
    return parse_csv(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                     path, options);
}

Dataset to_dataset(const CsvTable& table, std::size_t label_column) {
    const std::size_t rows = table.rows(), cols = table.cols();
    if (label_column >= cols) {
        throw std::invalid_argument("to_dataset: no such label column (got " +
                                    std::to_string(label_column) + ", expected < " +
                                    std::to_string(cols) + ")");
    }
    const DType dtype = table.values.dtype();
    Array features = Array::empty(dtype, Shape{rows, cols - 1});
    Array labels = Array::empty(dtype, Shape{rows});
    dispatch(dtype, [&](auto t) {
        using T = decltype(t);
        const T* v = table.values.data<T>();
        T* f = features.data<T>();
        T* l = labels.data<T>();
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t c = 0; c < cols; ++c) {
                if (c == label_column) {
                    l[r] = v[r * cols + c];
                } else {
                    *f++ = v[r * cols + c];
                }
            }
        }
    });
    return Dataset(std::move(features), std::move(labels));
}

}  // namespace xgrad::data
