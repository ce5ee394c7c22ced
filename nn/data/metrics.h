#pragma once
// Per-epoch metrics: accuracy counting and a CSV log that gnuplot, pandas or read_csv can read.

#include <cstddef>
#include <fstream>
#include <limits>
#include <string>

#include "autograd/tensor.h"

namespace xgrad::data {

/// The number of rows of `logits` (B, C) whose largest entry (the first one on ties) is at the
/// class given by `labels` (B) (class indices stored as floats). Throws std::invalid_argument
/// for other shapes.
std::size_t count_correct(const Tensor& logits, const Tensor& labels);

/// One row of the metrics log. A value that was not measured stays NaN (written "nan").
struct EpochMetrics {
    static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
    std::size_t epoch = 0;
    double train_loss = kNone;
    double train_accuracy = kNone;
    double test_loss = kNone;
    double test_accuracy = kNone;
    double seconds = kNone;
};

/// A CSV file of per-epoch metrics, with the header
///   epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds
/// and one row per append(), flushed at once (the log survives a crash). Numbers are written in
/// the shortest form that reads back exactly, independent of the locale.
/// Example:
///   MetricsLog log("out/metrics.csv");
///   log.append({1, 0.52, 0.81, 0.47, 0.83, 4.2});   // "1,0.52,0.81,0.47,0.83,4.2"
class MetricsLog {
public:
    /// Creates (or truncates) the file and writes the header; throws std::runtime_error naming
    /// the path when it cannot be written.
    explicit MetricsLog(const std::string& path);
    /// Continues the log of a resumed run: keeps the header and the rows of epochs
    /// 1..keep_epochs, drops later rows (written after the checkpoint the run resumed from) and
    /// appends after them. A missing file is created. Throws std::runtime_error when the file's
    /// header is not this log's, or it cannot be read or written.
    MetricsLog(const std::string& path, std::size_t keep_epochs);
    /// Appends one row; throws std::runtime_error when the write fails.
    void append(const EpochMetrics& metrics);
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::ofstream out_;
};

}  // namespace xgrad::data
