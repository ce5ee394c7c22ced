#pragma once
// The loss curve of a training run: per-epoch loss and accuracy on train and test data, as a
// PNG drawn by gnuplot (Debian: gnuplot-nox) or an SVG written directly, with no dependency.

#include <string>
#include <vector>

#include "nn/data/metrics.h"

namespace xgrad::data {

enum class PlotFormat {
    Auto,  // PNG when gnuplot runs, else SVG
    Png,   // gnuplot's pngcairo terminal; an error when gnuplot is missing or fails
    Svg,   // written by xgrad itself
};

/// Draws two panels side by side, loss and accuracy against the epoch, each with a train and
/// a test line (values that were not measured, NaN, are left out). Writes `stem + ".png"`
/// (with the gnuplot script beside it, `stem + ".gp"`, to re-draw or edit) or `stem + ".svg"`,
/// and returns the path of the picture. Throws std::invalid_argument for no rows, and
/// std::runtime_error naming the file when it cannot be written or (PlotFormat::Png) gnuplot
/// is missing or fails.
/// Example:
///   std::string picture = plot_metrics(history, "out/loss");   // "out/loss.png"
std::string plot_metrics(const std::vector<EpochMetrics>& metrics, const std::string& stem,
                         PlotFormat format = PlotFormat::Auto, const std::string& title = "");

}  // namespace xgrad::data
