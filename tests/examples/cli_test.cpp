// examples/cli.h: the examples' flags, and the errors for bad command lines.

#include "examples/cli.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace xgrad::examples {
namespace {

// argv from strings (argv[0] is the program).
struct Argv {
    explicit Argv(std::vector<std::string> args) : text(std::move(args)) {
        text.insert(text.begin(), "prog");
        for (std::string& s : text) ptrs.push_back(s.data());
    }
    int argc() const { return static_cast<int>(ptrs.size()); }
    char** argv() { return ptrs.data(); }
    std::vector<std::string> text;
    std::vector<char*> ptrs;
};

struct Parsed {
    std::size_t epochs = 1, a = 0, b = 0;
    double lr = 0.5;
    std::string name = "none", out = "out";
    bool on = false;
};

bool parse(const std::vector<std::string>& args, Parsed& p) {
    Cli cli("usage: prog");
    cli.positional(p.out)
        .count("--epochs", p.epochs)
        .real("--lr", p.lr)
        .text("--name", p.name)
        .flag("--on", [&] { p.on = true; })
        .values("--pair", 2,
                [&](char** v) { return Cli::to_count(v[0], p.a) && Cli::to_count(v[1], p.b); });
    Argv a(args);
    return cli.parse(a.argc(), a.argv());
}

TEST(Cli, ReadsEveryKindOfFlag) {
    Parsed p;
    ASSERT_TRUE(parse(
        {"dir", "--epochs", "12", "--lr", "1e-3", "--name", "x", "--on", "--pair", "3", "4"}, p));
    EXPECT_EQ(p.out, "dir");
    EXPECT_EQ(p.epochs, 12u);
    EXPECT_EQ(p.lr, 1e-3);
    EXPECT_EQ(p.name, "x");
    EXPECT_TRUE(p.on);
    EXPECT_EQ(p.a, 3u);
    EXPECT_EQ(p.b, 4u);
}

TEST(Cli, BadValuesUnknownFlagsAndMissingValuesAreErrors) {
    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"--epochs", "x"},
                                               {"--epochs", "-3"},
                                               {"--epochs", ""},
                                               {"--epochs", "12abc"},
                                               {"--lr", "fast"},
                                               {"--epochs"},
                                               {"--pair", "1"},
                                               {"--pair", "1", "b"},
                                               {"--bogus"},
                                               {"dir", "other"}}) {
        Parsed p;
        EXPECT_FALSE(parse(bad, p)) << bad[0];
    }
}

}  // namespace
}  // namespace xgrad::examples
