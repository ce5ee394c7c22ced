#pragma once
// The examples' command lines: each program lists its flags once (name, and where the value
// goes), and one parser reads argv. A value that is not a number where one is expected, an
// unknown flag or a missing value is an error naming it, never a silent 0.
//
//   examples::Cli cli("usage: char_lm [--epochs N] [--lr X]");
//   cli.count("--epochs", opts.epochs).real("--lr", opts.lr);
//   if (!cli.parse(argc, argv)) return 2;   // the usage and the error are printed

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace xgrad::examples {

class Cli {
public:
    explicit Cli(std::string usage) : usage_(std::move(usage)) {}

    /// --name N: an unsigned integer into `out`.
    template <class T>
    Cli& count(std::string name, T& out) {
        return add(std::move(name), 1, [&out](char** v) {
            std::size_t n = 0;
            if (!to_count(v[0], n)) return false;
            out = static_cast<T>(n);
            return true;
        });
    }
    /// --name X: a number into `out`.
    Cli& real(std::string name, double& out) {
        return add(std::move(name), 1, [&out](char** v) {
            char* end = nullptr;
            errno = 0;
            out = std::strtod(v[0], &end);
            return *v[0] != '\0' && *end == '\0' && errno == 0;
        });
    }
    /// --name TEXT into `out`.
    Cli& text(std::string name, std::string& out) {
        return add(std::move(name), 1, [&out](char** v) {
            out = v[0];
            return true;
        });
    }
    /// --name alone: runs `on`.
    Cli& flag(std::string name, std::function<void()> on) {
        return add(std::move(name), 0, [on = std::move(on)](char**) {
            on();
            return true;
        });
    }
    /// --name followed by `values` values (each read by `read`, false: not valid).
    Cli& values(std::string name, std::size_t n, std::function<bool(char**)> read) {
        return add(std::move(name), n, std::move(read));
    }
    /// A bare argument (not starting with '-') into `out`, at most once.
    Cli& positional(std::string& out) {
        positional_ = &out;
        return *this;
    }

    /// Reads argv; on an error prints it and the usage to stderr and returns false.
    bool parse(int argc, char** argv) {
        bool had_positional = false;
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            const Option* o = find(arg);
            if (o == nullptr) {
                if (positional_ != nullptr && !had_positional && !arg.empty() && arg[0] != '-') {
                    *positional_ = arg;
                    had_positional = true;
                    continue;
                }
                return fail("unknown argument '" + arg + "'");
            }
            if (static_cast<std::size_t>(argc - 1 - i) < o->values) {
                return fail(arg + " needs " + std::to_string(o->values) + " value(s)");
            }
            if (!o->read(argv + i + 1)) return fail("bad value for " + arg);
            i += static_cast<int>(o->values);
        }
        return true;
    }

    /// n from a decimal text of digits only.
    static bool to_count(const char* s, std::size_t& n) {
        if (*s == '\0') return false;
        char* end = nullptr;
        errno = 0;
        const unsigned long long v = std::strtoull(s, &end, 10);
        if (*end != '\0' || errno != 0 || *s == '-') return false;
        n = static_cast<std::size_t>(v);
        return true;
    }

private:
    struct Option {
        std::string name;
        std::size_t values;
        std::function<bool(char**)> read;
    };
    Cli& add(std::string name, std::size_t n, std::function<bool(char**)> read) {
        options_.push_back({std::move(name), n, std::move(read)});
        return *this;
    }
    const Option* find(const std::string& name) const {
        for (const Option& o : options_) {
            if (o.name == name) return &o;
        }
        return nullptr;
    }
    bool fail(const std::string& what) const {
        std::fprintf(stderr, "%s\n%s\n", what.c_str(), usage_.c_str());
        return false;
    }

    std::string usage_;
    std::vector<Option> options_;
    std::string* positional_ = nullptr;
};

}  // namespace xgrad::examples
