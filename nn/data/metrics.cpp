#include "nn/data/metrics.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace xgrad::data {

namespace {

// The shortest text that reads back as the same double ("0.1", "1e-07", "nan", "inf").
std::string shortest(double v) {
    if (std::isnan(v)) return "nan";
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, result.ptr);
}

}  // namespace

std::size_t count_correct(const Tensor& logits, const Tensor& labels) {
    if (logits.ndim() != 2 || labels.ndim() != 1 || labels.shape()[0] != logits.shape()[0]) {
        throw std::invalid_argument("count_correct: bad shapes (got logits " +
                                    logits.shape().str() + " and labels " + labels.shape().str() +
                                    ", expected (B,C) and (B))");
    }
    const std::size_t rows = logits.shape()[0], classes = logits.shape()[1];
    const std::vector<double> label = labels.to_vector();
    std::size_t correct = 0;
    dispatch(logits.dtype(), [&](auto t) {
        using T = decltype(t);
        const T* p = logits.value().data<T>();
        for (std::size_t r = 0; r < rows; ++r) {
            const T* row = p + r * classes;
            std::size_t best = 0;
            for (std::size_t c = 1; c < classes; ++c) {
                if (row[c] > row[best]) best = c;
            }
            if (classes > 0 && static_cast<double>(best) == label[r]) ++correct;
        }
    });
    return correct;
}

namespace {
const char* const kHeader = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds";
}  // namespace

MetricsLog::MetricsLog(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
    out_ << kHeader << '\n' << std::flush;
    if (!out_) {
        // Say why when it is the usual reason: a directory that does not exist (we do not
        // create it: a typo in a path would otherwise scatter directories).
        const std::filesystem::path dir = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
            throw std::runtime_error("MetricsLog: " + path +
                                     ": cannot write the file (the directory " + dir.string() +
                                     " does not exist; create it first)");
        }
        throw std::runtime_error("MetricsLog: " + path + ": cannot write the file");
    }
}

MetricsLog::MetricsLog(const std::string& path, std::size_t keep_epochs) : path_(path) {
    std::string kept = std::string(kHeader) + "\n";
    std::ifstream in(path);
    if (in) {
        std::string line;
        if (std::getline(in, line) && line != kHeader) {
            throw std::runtime_error("MetricsLog: " + path +
                                     ": not a metrics log (got the header \"" + line +
                                     "\", expected \"" + kHeader + "\")");
        }
        // Rows are in epoch order; an unreadable row ends what is kept.
        while (std::getline(in, line)) {
            std::size_t epoch = 0;
            const auto r = std::from_chars(line.data(), line.data() + line.size(), epoch);
            if (r.ec != std::errc() || r.ptr == line.data() + line.size() || *r.ptr != ',' ||
                epoch > keep_epochs) {
                break;
            }
            kept += line + "\n";
        }
    }
    in.close();
    out_.open(path, std::ios::trunc);
    out_ << kept << std::flush;
    if (!out_) throw std::runtime_error("MetricsLog: " + path + ": cannot write the file");
}

void MetricsLog::append(const EpochMetrics& m) {
    out_ << std::to_string(m.epoch) << ',' << shortest(m.train_loss) << ','
         << shortest(m.train_accuracy) << ',' << shortest(m.test_loss) << ','
         << shortest(m.test_accuracy) << ',' << shortest(m.seconds) << '\n'
         << std::flush;
    if (!out_) throw std::runtime_error("MetricsLog: " + path_ + ": write failed");
}

}  // namespace xgrad::data
