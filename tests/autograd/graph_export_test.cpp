// Graph pictures: names, DOT text (values green, gradients red, edges input -> output, leaf
// kinds), truncation of large graphs, and rendering through Graphviz.

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "tests/support/check.h"

namespace xgrad {
namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
    return n;
}

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
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

TEST(Names, SetNameIsSharedByCopiesOfTheHandle) {
    Tensor x = scalar(2, f64, true);
    EXPECT_EQ(x.name(), "");
    Tensor copy = x;
    x.set_name("x");
    EXPECT_EQ(copy.name(), "x");
    Tensor y = (x * 2.0).set_name("y");
    EXPECT_EQ(y.name(), "y");
}

TEST(Names, NameIsForgottenWhenTheNodeDies) {
    { Tensor named = scalar(1, f64).set_name("gone"); }
    // New nodes may reuse the freed address: they must not inherit the name.
    for (int i = 0; i < 100; ++i) EXPECT_EQ(scalar(i, f64).name(), "");
}

TEST(Names, UndefinedTensorThrows) {
    Tensor t;
    EXPECT_THROW_MSG(t.set_name("t"), std::logic_error, "set_name", "undefined");
}

TEST(Dot, EdgesPointFromInputsToTheOpsThatConsumeThem) {
    Tensor a = scalar(1, f64, true).set_name("a");
    Tensor b = exp(a).set_name("b");
    const std::string dot = to_dot(b);
    // BFS numbering from the root: b is n0, a is n1.
    EXPECT_TRUE(has(node_line(dot, "b (exp)"), "n0 ["));
    EXPECT_TRUE(has(node_line(dot, "a"), "n1 ["));
    EXPECT_TRUE(has(dot, "n1 -> n0;"));
    EXPECT_EQ(count(dot, "->"), 1u);
    EXPECT_TRUE(has(dot, "rankdir=LR"));
}

TEST(Dot, ParametersConstantsAndRootAreMarkedDistinctly) {
    Tensor w = scalar(2, f64, true).set_name("w");
    Tensor c = scalar(3, f64).set_name("c");
    Tensor y = (w * c).set_name("y");
    const std::string dot = to_dot(y);
    EXPECT_TRUE(has(node_line(dot, "w"), "fillcolor"));
    EXPECT_TRUE(has(node_line(dot, "w"), "parameter"));
    EXPECT_TRUE(has(node_line(dot, "c"), "dashed"));
    EXPECT_TRUE(has(node_line(dot, "c"), "constant"));
    EXPECT_TRUE(has(node_line(dot, "y (mul)"), "peripheries=2"));
    EXPECT_TRUE(has(node_line(dot, "y (mul)"), "shape=ellipse"));
}

TEST(Dot, UnnamedNodesShowTheirOpAndShape) {
    Tensor a = tensor({1, 2, 3}, f64, true);
    const std::string dot = to_dot(relu(a));
    EXPECT_TRUE(has(dot, "<b>relu</b>"));
    EXPECT_TRUE(has(dot, "(3) float64"));
    EXPECT_TRUE(has(dot, green("[1, 2, 3]")));
}

TEST(Dot, LargeTensorsShowASummaryInsteadOfValues) {
    Tensor a = full({10, 10}, 2.0, f64, true);
    Tensor b = a * 3.0;
    const std::string dot = to_dot(b);
    EXPECT_TRUE(has(dot, green("mean 6, min 6, max 6")));
    EXPECT_TRUE(has(dot, "(10,10) float64"));
    EXPECT_FALSE(has(dot, "6, 6, 6"));
}

TEST(Dot, SummaryCountsNaNAndInf) {
    Tensor a = tensor({0, 1, -1, 2, 3, 4, 5, 6}, f64, true);
    const std::string dot = to_dot(log(a));
    EXPECT_TRUE(has(dot, "1 nan, 1 -inf"));
}

TEST(Dot, GradientsOfInteriorNodesNeedRetainGrads) {
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor h = (x * x).set_name("h");
    Tensor f = (h * 3.0).set_name("f");
    f.backward(/*retain_graph=*/true);
    std::string dot = to_dot(f);
    EXPECT_TRUE(has(node_line(dot, "x"), red("12")));
    EXPECT_FALSE(has(node_line(dot, "h (mul)"), "grad"));

    x.zero_grad();
    retain_grads(f);
    f.backward(/*retain_graph=*/true);
    dot = to_dot(f);
    EXPECT_TRUE(has(node_line(dot, "h (mul)"), red("3")));
    // `h * 3.0` holds its scalar (no constant node); the label shows it.
    EXPECT_TRUE(has(node_line(dot, "f (mul (· * 3))"), red("1")));
    EXPECT_EQ(h.grad().item(), 3.0);
}

TEST(Dot, BackwardWithoutRetainGraphLeavesOnlyTheRootWithANote) {
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor f = (x * x).set_name("f");
    f.backward();
    const std::string dot = to_dot(f);
    EXPECT_EQ(count(dot, "->"), 0u);
    EXPECT_TRUE(has(dot, "inputs freed by backward; use backward(true)"));
}

TEST(Dot, NamesAreEscapedForGraphviz) {
    Tensor x = scalar(1, f64, true).set_name("a<b & \"c\">");
    const std::string dot = to_dot(x);
    EXPECT_TRUE(has(dot, "a&lt;b &amp; &quot;c&quot;&gt;"));
    EXPECT_FALSE(has(dot, "a<b"));
}

TEST(Dot, TenThousandNodeGraphIsTruncatedToASmallFile) {
    Tensor x = scalar(1, f64, true);
    Tensor y = x;
    for (int i = 0; i < 10000; ++i) y = y * 1.0;  // 10^4 muls (scalars folded in) + x
    const std::string dot = to_dot(y);
    EXPECT_LT(dot.size(), 100u * 1024u);
    EXPECT_EQ(count(dot, " [shape="), 200u + 1u);  // 200 nodes and the placeholder
    EXPECT_TRUE(has(dot, "... 9801 more nodes (max_nodes = 200)"));
    EXPECT_GE(count(dot, "more -> "), 1u);
}

TEST(Dot, MaxNodesIsConfigurable) {
    Tensor x = scalar(1, f64, true);
    Tensor y = exp(exp(exp(x)));
    DotOptions o;
    o.max_nodes = 2;
    const std::string dot = to_dot(y, o);
    EXPECT_TRUE(has(dot, "... 2 more nodes (max_nodes = 2)"));
    EXPECT_TRUE(has(dot, "n1 -> n0;"));
    EXPECT_TRUE(has(dot, "more -> n1"));
}

TEST(Dot, MillionNodeChainExportsWithoutRecursion) {
    Tensor x = scalar(1, f64, true);
    Tensor y = x;
    for (int i = 0; i < 1000000; ++i) y = neg(y);
    retain_grads(y);  // also iterative
    const std::string dot = to_dot(y);
    EXPECT_TRUE(has(dot, "... 999801 more nodes"));
}

TEST(Dot, OptionsHideValuesGradientsAndShapesAndAddATitle) {
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor f = (x * x).set_name("f");
    f.backward(/*retain_graph=*/true);
    DotOptions o;
    o.show_values = o.show_grads = o.show_shapes = false;
    o.title = "x squared";
    const std::string dot = to_dot(f, o);
    EXPECT_FALSE(has(dot, "darkgreen"));
    EXPECT_FALSE(has(dot, "color=\"red\""));
    EXPECT_FALSE(has(dot, "float64"));
    EXPECT_TRUE(has(dot, "label=<<b>x squared</b>>"));
    EXPECT_TRUE(has(dot, "<b>x</b>"));
}

TEST(Dot, PrecisionSetsSignificantDigits) {
    Tensor x = scalar(1.0 / 3.0, f64, true);
    DotOptions o;
    o.precision = 2;
    EXPECT_TRUE(has(to_dot(x, o), green("0.33")));
    EXPECT_TRUE(has(to_dot(x), green("0.3333")));  // default: 4 digits
}

TEST(Dot, UndefinedRootThrows) {
    EXPECT_THROW_MSG(to_dot(Tensor()), std::invalid_argument, "to_dot", "undefined");
    EXPECT_THROW_MSG(retain_grads(Tensor()), std::invalid_argument, "retain_grads");
}

// ---- Rendering ----

class Render : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ =
            std::filesystem::temp_directory_path() /
            ("xgrad_render_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
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

TEST_F(Render, SvgAndPngByExtension) {
    if (!graphviz_available()) GTEST_SKIP() << "Graphviz's dot is not installed";
    Tensor x = scalar(2, f64, true).set_name("x");
    Tensor f = (x * x).set_name("f");
    f.backward(/*retain_graph=*/true);
    const std::string dot = to_dot(f);
    render_dot(dot, path("f.svg"));
    render_dot(dot, path("f.png"));
    const std::string svg = read(path("f.svg"));
    EXPECT_TRUE(has(svg, "<svg"));
    EXPECT_TRUE(has(svg, "fill=\"red\""));  // gradients survive rendering in red
    EXPECT_EQ(read(path("f.png")).substr(1, 3), "PNG");
}

TEST_F(Render, SaveGraphWritesDotTextForADotPath) {
    Tensor x = scalar(1, f64, true).set_name("x");
    save_graph(exp(x), path("g.dot"));
    EXPECT_EQ(read(path("g.dot")), to_dot(exp(x)));
    EXPECT_TRUE(has(read(path("g.dot")), "digraph xgrad"));
}

TEST_F(Render, UnknownExtensionThrows) {
    EXPECT_THROW_MSG(render_dot("digraph {}", path("f.jpg")), std::invalid_argument, "render_dot",
                     "f.jpg", ".svg, .png or .pdf");
}

TEST_F(Render, MissingGraphvizGivesAClearError) {
    const char* old = std::getenv("PATH");
    const std::string saved = old ? old : "";
    ::setenv("PATH", dir_.c_str(), 1);  // an empty directory: no dot on the PATH
    EXPECT_FALSE(graphviz_available());
    EXPECT_THROW_MSG(render_dot("digraph {}", path("f.svg")), std::runtime_error,
                     "'dot' program is not on the PATH", "apt-get install graphviz");
    ::setenv("PATH", saved.c_str(), 1);
}

}  // namespace
}  // namespace xgrad
