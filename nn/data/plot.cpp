#include "nn/data/plot.h"

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "autograd/debug/graph_export.h"
#include "nn/data/file_util.h"

extern char** environ;

namespace xgrad::data {

namespace {

struct Series {
    const char* name;
    const char* colour;
    double EpochMetrics::*field;
};

// The two panels and their lines: loss (train, test), accuracy (train, test).
struct Panel {
    const char* title;
    Series train, test;
};
const Panel kPanels[2] = {
    {"loss",
     {"train", "#1f77b4", &EpochMetrics::train_loss},
     {"test", "#d62728", &EpochMetrics::test_loss}},
    {"accuracy",
     {"train", "#1f77b4", &EpochMetrics::train_accuracy},
     {"test", "#d62728", &EpochMetrics::test_accuracy}},
};

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

// A gnuplot single-quoted string: a quote inside is doubled.
std::string gp_quoted(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// A tick step of 1, 2 or 5 times a power of ten giving about `count` ticks over `range`.
double nice_step(double range, int count) {
    const double raw = range / count;
    const double p = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0}) {
        if (m * p >= raw) return m * p;
    }
    return 10 * p;
}

// The panel's y range: [0, a bit above the largest value] for the loss, [a tenth below the
// smallest, 1] for the accuracy.
std::pair<double, double> y_range(const std::vector<EpochMetrics>& rows, const Panel& panel,
                                  bool accuracy) {
    double lo = INFINITY, hi = -INFINITY;
    for (const EpochMetrics& m : rows) {
        for (double v : {m.*panel.train.field, m.*panel.test.field}) {
            if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
        }
    }
    if (!std::isfinite(lo)) return {0, 1};  // nothing measured
    if (accuracy) return {std::max(0.0, std::floor(lo * 10 - 1e-9) / 10), 1.0};
    const double top = hi > 0 ? hi * 1.05 : 1.0;
    return {std::min(0.0, lo), top};
}

std::string svg(const std::vector<EpochMetrics>& rows, const std::string& title) {
    constexpr double kW = 900, kH = 420, kPanelW = kW / 2;
    constexpr double kLeft = 64, kRight = 24, kTop = 56, kBottom = 52;
    const double first = static_cast<double>(rows.front().epoch);
    const double last = static_cast<double>(rows.back().epoch);
    const double pad = first == last ? 0.5 : 0.05 * (last - first);  // points clear the frame
    const double x0 = first - pad, x1 = last + pad;

    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(kW) +
                    "\" height=\"" + num(kH) + "\" viewBox=\"0 0 " + num(kW) + " " + num(kH) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!title.empty()) {
        s += "<text x=\"" + num(kW / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
             xgrad::escape_xml(title) + "</text>\n";
    }
    for (int p = 0; p < 2; ++p) {
        const Panel& panel = kPanels[p];
        // Plain locals, not a structured binding: lambdas cannot capture those before C++20
        // (g++ accepts it, clang rejects it).
        const auto y_lim = y_range(rows, panel, /*accuracy=*/p == 1);
        const double y0 = y_lim.first, y1 = y_lim.second;
        const double left = p * kPanelW + kLeft, right = (p + 1) * kPanelW - kRight;
        const double top = kTop, bottom = kH - kBottom;
        auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (right - left); };
        auto py = [&](double y) { return bottom - (y - y0) / (y1 - y0) * (bottom - top); };

        s += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(top - 12) +
             "\" text-anchor=\"middle\" font-weight=\"bold\">" + panel.title + "</text>\n";
        // y grid and ticks
        const double ystep = nice_step(y1 - y0, 5);
        for (double y = std::ceil(y0 / ystep - 1e-9) * ystep; y <= y1 + 1e-9 * ystep; y += ystep) {
            s += "<line x1=\"" + num(left) + "\" x2=\"" + num(right) + "\" y1=\"" + num(py(y)) +
                 "\" y2=\"" + num(py(y)) + "\" stroke=\"#e0e0e0\"/>\n";
            s += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(y) + 4) +
                 "\" text-anchor=\"end\">" + num(std::abs(y) < 1e-12 ? 0.0 : y) + "</text>\n";
        }
        // x ticks: whole epochs
        const double xstep = std::max(1.0, nice_step(x1 - x0, 8));
        for (double x = std::ceil(x0 / xstep - 1e-9) * xstep; x <= x1 + 1e-9; x += xstep) {
            s += "<line x1=\"" + num(px(x)) + "\" x2=\"" + num(px(x)) + "\" y1=\"" + num(bottom) +
                 "\" y2=\"" + num(bottom + 5) + "\" stroke=\"black\"/>\n";
            s += "<text x=\"" + num(px(x)) + "\" y=\"" + num(bottom + 19) +
                 "\" text-anchor=\"middle\">" + num(x) + "</text>\n";
        }
        s += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(right - left) +
             "\" height=\"" + num(bottom - top) + "\" fill=\"none\" stroke=\"black\"/>\n";
        s += "<text x=\"" + num((left + right) / 2) + "\" y=\"" + num(kH - 12) +
             "\" text-anchor=\"middle\">epoch</text>\n";
        // the lines, each point marked; NaN values leave a gap
        int legend = 0;
        for (const Series* series : {&panel.train, &panel.test}) {
            std::string points, marks;
            for (const EpochMetrics& m : rows) {
                const double v = m.*series->field;
                if (!std::isfinite(v)) continue;
                const std::string x = num(px(static_cast<double>(m.epoch))), y = num(py(v));
                points += (points.empty() ? "" : " ") + x + "," + y;
                marks += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"3\" fill=\"" +
                         series->colour + "\"/>\n";
            }
            if (points.empty()) continue;
            s += std::string("<polyline class=\"") + series->name + "\" fill=\"none\" stroke=\"" +
                 series->colour + "\" stroke-width=\"2\" points=\"" + points + "\"/>\n" + marks;
            // the legend in a corner the curves leave free: loss falls, accuracy rises
            const double ly = p == 0 ? top + 16 + 18 * legend++ : bottom - 28 + 18 * legend++;
            s += "<line x1=\"" + num(right - 70) + "\" x2=\"" + num(right - 48) + "\" y1=\"" +
                 num(ly - 4) + "\" y2=\"" + num(ly - 4) + "\" stroke=\"" + series->colour +
                 "\" stroke-width=\"2\"/>\n";
            s += "<text x=\"" + num(right - 42) + "\" y=\"" + num(ly) + "\">" + series->name +
                 "</text>\n";
        }
    }
    return s + "</svg>\n";
}

std::string gnuplot_script(const std::vector<EpochMetrics>& rows, const std::string& png,
                           const std::string& title) {
    auto cell = [](double v) { return std::isfinite(v) ? num(v) : std::string("?"); };
    std::string s = "# Written by xgrad::data::plot_metrics; run `gnuplot <this file>`.\n";
    s += "$metrics << EOD\n# epoch train_loss train_accuracy test_loss test_accuracy\n";
    for (const EpochMetrics& m : rows) {
        s += std::to_string(m.epoch) + " " + cell(m.train_loss) + " " + cell(m.train_accuracy) +
             " " + cell(m.test_loss) + " " + cell(m.test_accuracy) + "\n";
    }
    s += "EOD\n";
    s += "set datafile missing '?'\n";
    s += "set terminal pngcairo size 900,420 font 'sans,10'\n";
    s += "set output " + gp_quoted(png) + "\n";
    s += "set multiplot layout 1,2" +
         (title.empty() ? std::string() : " title " + gp_quoted(title) + " font 'sans,12'") + "\n";
    s += "set xlabel 'epoch'\nset grid ytics lc rgb '#e0e0e0'\nset key top right\n";
    s += "set xtics 1\nset autoscale xfix\nset offsets graph 0.05, graph 0.05, 0, 0\n";
    s += "set title 'loss'\nset yrange [0:*]\n";
    s +=
        "plot $metrics using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#1f77b4' title 'train', "
        "$metrics using 1:4 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#d62728' title 'test'\n";
    s += "set title 'accuracy'\nset yrange [*:1]\nset key bottom right\n";
    s +=
        "plot $metrics using 1:3 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#1f77b4' title 'train', "
        "$metrics using 1:5 with linespoints pt 7 ps 0.6 lw 2 lc rgb '#d62728' title 'test'\n";
    s += "unset multiplot\n";
    return s;
}

void write_text(const std::string& path, const std::string& text) {
    detail::write_file_atomic(path, text.data(), text.size(), "plot_metrics");
}

// Runs `gnuplot script` (no shell); returns an empty string on success, else the problem.
std::string run_gnuplot(const std::string& script) {
    std::string program = "gnuplot", arg = script;
    char* argv[] = {program.data(), arg.data(), nullptr};
    pid_t pid = 0;
    const int err = ::posix_spawnp(&pid, "gnuplot", nullptr, nullptr, argv, environ);
    if (err != 0) return std::string("cannot run gnuplot (") + std::strerror(err) + ")";
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return std::string("waitpid failed (") + std::strerror(errno) + ")";
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return "gnuplot is not installed";
    return "gnuplot failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
}

}  // namespace

std::string plot_metrics(const std::vector<EpochMetrics>& metrics, const std::string& stem,
                         PlotFormat format, const std::string& title) {
    if (metrics.empty())
        throw std::invalid_argument("plot_metrics: no epochs to draw (got 0 rows)");
    if (format != PlotFormat::Svg) {
        const std::string png = stem + ".png", script = stem + ".gp";
        write_text(script, gnuplot_script(metrics, png, title));
        std::remove(png.c_str());  // so that an old picture cannot pass for a new one
        std::string problem = run_gnuplot(script);
        if (problem.empty()) {
            std::ifstream in(png, std::ios::binary);
            char magic[4] = {};
            in.read(magic, 4);
            if (in && std::memcmp(magic, "\x89PNG", 4) == 0) return png;
            problem = "gnuplot wrote no PNG";
        }
        if (format == PlotFormat::Png) detail::file_error("plot_metrics", png, problem);
        std::remove(script.c_str());
    }
    const std::string path = stem + ".svg";
    write_text(path, svg(metrics, title));
    return path;
}

}  // namespace xgrad::data
