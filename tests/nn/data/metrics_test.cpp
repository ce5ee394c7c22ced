// MetricsLog (the CSV format) and count_correct.

#include "nn/data/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "nn/data/csv.h"
#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::data {
namespace {

using xgrad::testing::TempDir;

std::string text_of(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(MetricsLog, WritesAHeaderAndOneRowPerEpoch) {
    TempDir dir;
    const std::string path = dir.file("metrics.csv");
    MetricsLog log(path);
    EXPECT_EQ(text_of(path), "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n");
    log.append({1, 0.5, 0.8125, 0.25, 0.9, 1.5});
    log.append({2, 0.1, 1.0 / 3.0, 1e-7, 1, 12});
    EXPECT_EQ(text_of(path),
              "epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
              "1,0.5,0.8125,0.25,0.9,1.5\n"
              "2,0.1,0.3333333333333333,1e-07,1,12\n");
}

TEST(MetricsLog, UnmeasuredValuesAreNan) {
    TempDir dir;
    const std::string path = dir.file("metrics.csv");
    EpochMetrics m;
    m.epoch = 3;
    m.train_loss = 0.75;
    MetricsLog(path).append(m);
    EXPECT_EQ(text_of(path).substr(text_of(path).find('\n') + 1), "3,0.75,nan,nan,nan,nan\n");
}

TEST(MetricsLog, ReadsBackExactlyWithReadCsv) {
    TempDir dir;
    const std::string path = dir.file("metrics.csv");
    {
        MetricsLog log(path);
        log.append({1, 2.302585092994046, 0.1, 2.2, 0.12, 3.25});
        log.append({2, 0.6931471805599453, 0.75, 0.7, 0.74, 3.5});
    }
    CsvOptions o;
    o.header = true;
    o.dtype = f64;
    const CsvTable t = read_csv(path, o);
    EXPECT_EQ(t.column("test_accuracy"), 4u);
    EXPECT_EQ(t.values.to_vector(),
              (std::vector<double>{1, 2.302585092994046, 0.1, 2.2, 0.12, 3.25, 2,
                                   0.6931471805599453, 0.75, 0.7, 0.74, 3.5}));
}

TEST(MetricsLog, UnwritablePathNamesThePath) {
    TempDir dir;
    const std::string path = dir.file("no/such/dir/metrics.csv");
    // Issue 12: the message did not say that the directory is missing.
    EXPECT_THROW_MSG(MetricsLog{path}, std::runtime_error,
                     "MetricsLog: " + path + ": cannot write the file (the directory " +
                         dir.file("no/such/dir") + " does not exist");
}

TEST(CountCorrect, CountsRowsWhoseArgmaxIsTheLabel) {
    const Tensor logits = tensor({0.1, 0.7, 0.2,   // argmax 1
                                  3.0, -1.0, 2.0,  // argmax 0
                                  0.0, 0.0, 5.0},  // argmax 2
                                 {3, 3});
    EXPECT_EQ(count_correct(logits, tensor({1, 0, 2})), 3u);
    EXPECT_EQ(count_correct(logits, tensor({1, 2, 2}, f64)), 2u);
}

TEST(CountCorrect, TiesGoToTheFirstClass) {
    EXPECT_EQ(count_correct(tensor({1, 1}, {1, 2}), tensor({0})), 1u);
    EXPECT_EQ(count_correct(tensor({1, 1}, {1, 2}), tensor({1})), 0u);
}

TEST(CountCorrect, RejectsBadShapes) {
    EXPECT_THROW_MSG(count_correct(zeros({4, 3}), zeros({3})), std::invalid_argument,
                     "count_correct: bad shapes (got logits (4,3) and labels (3), expected (B,C) "
                     "and (B))");
    EXPECT_THROW_MSG(count_correct(zeros({4}), zeros({4})), std::invalid_argument, "bad shapes");
}

}  // namespace
}  // namespace xgrad::data
