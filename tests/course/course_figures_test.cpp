// The course's figures 4 and 5 (examples/course_figures.h) as the DOT export draws them and the
// backward trace prints them: the example program's output, pinned.

#include "examples/course_figures.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "tests/support/check.h"

namespace xgrad {
namespace {

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

std::string green(const std::string& v) { return "<font color=\"darkgreen\">" + v + "</font>"; }
std::string red(const std::string& v) { return "<font color=\"red\">grad " + v + "</font>"; }

// The DOT statement that declares node `title` (its line), "" when there is none.
std::string node_line(const std::string& dot, const std::string& title) {
    const std::size_t p = dot.find("<b>" + title + "</b>");
    if (p == std::string::npos) return {};
    const std::size_t begin = dot.rfind('\n', p) + 1, end = dot.find('\n', p);
    return dot.substr(begin, end - begin);
}

::testing::AssertionResult contains(const std::string& text, const std::string& line) {
    if (text.find(line) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "trace lacks \"" << line << "\":\n" << text;
}

class Render : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("xgrad_course_figures_" +
                std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::string path(const char* file) const { return (dir_ / file).string(); }
    std::filesystem::path dir_;
};

std::string read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Dot, Figure4ShowsValuesInGreenAndGradientsInRed) {
    const std::string dot = examples::figure4_dot();
    // forward values x = 2, y = 3, z = 4, g = 5, f = 20
    for (const char* v : {"2", "3", "4", "5", "20"}) EXPECT_TRUE(has(dot, green(v))) << v;
    // gradients: df/df = 1, df/dg = 4, df/dz = g = 5, df/dx = df/dy = 4
    EXPECT_TRUE(has(node_line(dot, "f (mul)"), red("1")));
    EXPECT_TRUE(has(node_line(dot, "g (add)"), red("4")));
    EXPECT_TRUE(has(node_line(dot, "z"), red("5")));
    EXPECT_TRUE(has(node_line(dot, "x"), red("4")));
    EXPECT_TRUE(has(node_line(dot, "y"), red("4")));
}

TEST(Dot, Figure5GradientsAddAtJunctions) {
    const std::string dot = examples::figure5_dot();
    EXPECT_TRUE(has(node_line(dot, "x"), red("16")));  // 4 * 1 + 4 * 3
    EXPECT_TRUE(has(node_line(dot, "y"), red("12")));  // 4 * 1 + 4 * 2
    EXPECT_TRUE(has(node_line(dot, "z"), red("11")));  // g = 5 + 6
    EXPECT_TRUE(has(node_line(dot, "h (add)"), green("5")));
    EXPECT_TRUE(has(node_line(dot, "i (mul)"), green("6")));
    EXPECT_TRUE(has(node_line(dot, "f (mul)"), green("44")));
    EXPECT_EQ(count(dot, "->"), 8u);  // x, y into h and i; h, i into g; g, z into f
}

TEST_F(Render, CourseFiguresAreWritten) {
    const std::vector<std::string> written = examples::write_course_figures(path("out"));
    EXPECT_TRUE(has(read(path("out/figure5.dot")), "grad 16"));
    EXPECT_EQ(written.size(), graphviz_available() ? 6u : 2u);
}

TEST(Trace, Figure5GradientsAccumulateAtJunctions) {
    std::ostringstream os;
    {
        BackwardTraceGuard trace(os);
        Tensor f = examples::figure5_graph();  // runs backward
    }
    const std::string t = os.str();
    EXPECT_TRUE(contains(t, "i = x * y = 6\n"));
    EXPECT_TRUE(contains(t, "  df/dx = df/di * di/dx = 4 * y = 4 * 3 = 12\n"));
    EXPECT_TRUE(contains(t, "  df/dx += df/dh * dh/dx = 4 * 1 = 4\n"));
    // Expanded: one product per path, as note 001 writes df/dx = 4 * 1 + 4 * 3 = 16.
    EXPECT_TRUE(contains(t, "  df/dx = z * y + z = 4 * 3 + 4 = 16\n"));
    EXPECT_TRUE(contains(t, "  df/dy = z * x + z = 4 * 2 + 4 = 12\n"));
}

}  // namespace
}  // namespace xgrad
