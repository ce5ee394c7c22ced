// plot_metrics: an SVG written directly (always available), a PNG through gnuplot when it is
// installed, and the fallback from one to the other.

#include "nn/data/plot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::data {
namespace {

using xgrad::testing::TempDir;

std::vector<EpochMetrics> history() {
    return {{1, 0.9, 0.70, 0.8, 0.72, 3.0},
            {2, 0.5, 0.82, 0.55, 0.80, 3.1},
            {3, 0.4, 0.86, 0.5, 0.84, 3.0}};
}

std::string text_of(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

bool gnuplot_installed() { return std::system("gnuplot -e 'exit' >/dev/null 2>&1") == 0; }

TEST(PlotMetrics, SvgHasTwoPanelsWithATrainAndATestLineEach) {
    TempDir dir;
    const std::string path =
        plot_metrics(history(), dir.file("loss"), PlotFormat::Svg, "Fashion <MNIST> & co");
    EXPECT_EQ(path, dir.file("loss.svg"));
    const std::string svg = text_of(path);
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
    EXPECT_NE(svg.find("</svg>\n"), std::string::npos);
    EXPECT_EQ(count(svg, "<polyline class=\"train\""), 2u);
    EXPECT_EQ(count(svg, "<polyline class=\"test\""), 2u);
    EXPECT_EQ(count(svg, "<circle "), 12u);  // 3 epochs x 4 lines
    EXPECT_NE(svg.find(">loss</text>"), std::string::npos);
    EXPECT_NE(svg.find(">accuracy</text>"), std::string::npos);
    EXPECT_NE(svg.find("Fashion &lt;MNIST&gt; &amp; co"), std::string::npos);
    EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(PlotMetrics, SvgLeavesOutValuesThatWereNotMeasured) {
    TempDir dir;
    std::vector<EpochMetrics> rows = history();
    for (EpochMetrics& m : rows) m.test_loss = m.test_accuracy = EpochMetrics::kNone;
    rows[1].train_loss = NAN;
    const std::string svg = text_of(plot_metrics(rows, dir.file("loss"), PlotFormat::Svg));
    EXPECT_EQ(count(svg, "<polyline class=\"test\""), 0u);
    EXPECT_EQ(count(svg, "<polyline class=\"train\""), 2u);
    EXPECT_EQ(count(svg, "<circle "), 5u);
    EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(PlotMetrics, OneEpochAndNoEpochs) {
    TempDir dir;
    const std::string svg = text_of(plot_metrics({history()[0]}, dir.file("one"), PlotFormat::Svg));
    EXPECT_EQ(count(svg, "<circle "), 4u);
    EXPECT_THROW_MSG(plot_metrics({}, dir.file("none")), std::invalid_argument,
                     "plot_metrics: no epochs to draw");
}

TEST(PlotMetrics, PngThroughGnuplotWithItsScriptBeside) {
    if (!gnuplot_installed()) GTEST_SKIP() << "gnuplot is not installed (Debian: gnuplot-nox)";
    TempDir dir;
    const std::string path = plot_metrics(history(), dir.file("loss"), PlotFormat::Png, "run");
    EXPECT_EQ(path, dir.file("loss.png"));
    EXPECT_EQ(text_of(path).substr(0, 4), "\x89PNG");
    EXPECT_NE(text_of(dir.file("loss.gp")).find("set output '" + dir.file("loss.png") + "'"),
              std::string::npos);
    EXPECT_EQ(plot_metrics(history(), dir.file("auto")), dir.file("auto.png"));
}

TEST(PlotMetrics, WithoutGnuplotAutoFallsBackToSvgAndPngIsAnError) {
    TempDir dir;
    const char* old = std::getenv("PATH");
    const std::string saved = old != nullptr ? old : "";
    ::setenv("PATH", dir.path().c_str(), 1);  // a directory without gnuplot
    std::string auto_path;
    EXPECT_NO_THROW(auto_path = plot_metrics(history(), dir.file("loss")));
    EXPECT_THROW_MSG(plot_metrics(history(), dir.file("png"), PlotFormat::Png), std::runtime_error,
                     "plot_metrics: " + dir.file("png.png") + ": ");
    ::setenv("PATH", saved.c_str(), 1);
    EXPECT_EQ(auto_path, dir.file("loss.svg"));
    EXPECT_FALSE(std::filesystem::exists(dir.file("loss.gp")));
}

}  // namespace
}  // namespace xgrad::data
