// read_csv: numbers, header, dialect details, gzip, and errors naming file, line and column.

#include "nn/data/csv.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/nn/data/test_files.h"
#include "tests/support/check.h"

namespace xgrad::data {
namespace {

using xgrad::testing::TempDir;

CsvOptions with_header() {
    CsvOptions o;
    o.header = true;
    return o;
}

TEST(ReadCsv, ReadsNumbersWithoutHeader) {
    TempDir dir;
    const CsvTable t = read_csv(dir.write("a.csv", "1,2,3\n4.5,-6,7e-1\n"));
    EXPECT_TRUE(t.columns.empty());
    EXPECT_EQ(t.values.shape(), Shape({2, 3}));
    EXPECT_EQ(t.values.dtype(), f32);
    EXPECT_EQ(t.values.to_vector(), (std::vector<double>{1, 2, 3, 4.5, -6, 0.7f}));
}

TEST(ReadCsv, ReadsHeaderNamesAndFindsColumns) {
    TempDir dir;
    const CsvTable t = read_csv(dir.write("a.csv", "x,\"y, z\",label\n1,2,0\n"), with_header());
    EXPECT_EQ(t.columns, (std::vector<std::string>{"x", "y, z", "label"}));
    EXPECT_EQ(t.column("label"), 2u);
    EXPECT_THROW_MSG(t.column("w"), std::invalid_argument,
                     "no column named \"w\" (got x, y, z, label)");
}

TEST(ReadCsv, AcceptsCrlfBlankLinesSpacesQuotesPlusSignAndSpecialValues) {
    TempDir dir;
    CsvOptions o;
    o.dtype = f64;
    const CsvTable t =
        read_csv(dir.write("a.csv", "\r\n 1 , +2,\"3\"\r\n\n  \nnan,inf,-inf\r\n\n"), o);
    ASSERT_EQ(t.values.shape(), Shape({2, 3}));
    const std::vector<double> v = t.values.to_vector();
    EXPECT_EQ(v[0], 1);
    EXPECT_EQ(v[1], 2);
    EXPECT_EQ(v[2], 3);
    EXPECT_TRUE(std::isnan(v[3]));
    EXPECT_EQ(v[4], INFINITY);
    EXPECT_EQ(v[5], -INFINITY);
}

TEST(ReadCsv, ReadsWithoutTrailingNewline) {
    TempDir dir;
    EXPECT_EQ(read_csv(dir.write("a.csv", "1,2\n3,4")).values.to_vector(),
              (std::vector<double>{1, 2, 3, 4}));
}

TEST(ReadCsv, UsesTheGivenDelimiterAndDtype) {
    TempDir dir;
    CsvOptions o;
    o.delimiter = ';';
    o.dtype = f64;
    const CsvTable t = read_csv(dir.write("a.csv", "0.1;0.2\n"), o);
    EXPECT_EQ(t.values.dtype(), f64);
    EXPECT_EQ(t.values.to_vector(), (std::vector<double>{0.1, 0.2}));
}

TEST(ReadCsv, TabDelimiterKeepsEmptyTabCellsAnError) {
    TempDir dir;
    CsvOptions o;
    o.delimiter = '\t';
    EXPECT_EQ(read_csv(dir.write("a.tsv", "1\t 2\n"), o).values.to_vector(),
              (std::vector<double>{1, 2}));
    EXPECT_THROW_MSG(read_csv(dir.write("b.tsv", "1\t\t2\n"), o), std::runtime_error,
                     "line 1, column 2: empty cell");
}

TEST(ReadCsv, ReadsGzipCompressedFiles) {
    TempDir dir;
    const CsvTable t = read_csv(dir.write_gz("a.csv.gz", "a,b\n1,2\n3,4\n"), with_header());
    EXPECT_EQ(t.columns, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(t.values.to_vector(), (std::vector<double>{1, 2, 3, 4}));
}

TEST(ReadCsv, EmptyFileGivesAnEmptyTable) {
    TempDir dir;
    EXPECT_EQ(read_csv(dir.write("a.csv", "")).values.shape(), Shape({0, 0}));
    const CsvTable t = read_csv(dir.write("b.csv", "a,b,c\n"), with_header());
    EXPECT_EQ(t.values.shape(), Shape({0, 3}));
    EXPECT_EQ(t.columns.size(), 3u);
}

TEST(ReadCsv, BadCellNamesFileLineAndColumn) {
    TempDir dir;
    const std::string path = dir.write("bad.csv", "a,b\n1,2\n3,abc\n");
    EXPECT_THROW_MSG(read_csv(path, with_header()), std::runtime_error,
                     "read_csv: " + path + ": line 3, column 2: not a number (got \"abc\")");
}

TEST(ReadCsv, NumberWithTrailingTextIsRejected) {
    TempDir dir;
    const std::string path = dir.write("bad.csv", "1,2\n1.5x,2\n");
    EXPECT_THROW_MSG(read_csv(path), std::runtime_error,
                     "line 2, column 1: not a number (got \"1.5x\")");
    EXPECT_THROW_MSG(read_csv(dir.write("c.csv", "+-1\n")), std::runtime_error,
                     "not a number (got \"+-1\")");
    EXPECT_THROW_MSG(read_csv(dir.write("d.csv", "+\n")), std::runtime_error,
                     "not a number (got \"+\")");
}

TEST(ReadCsv, EmptyCellNamesLineAndColumn) {
    TempDir dir;
    EXPECT_THROW_MSG(read_csv(dir.write("bad.csv", "1,2,3\n4,,6\n")), std::runtime_error,
                     "line 2, column 2: empty cell (expected a number)");
}

TEST(ReadCsv, RaggedRowNamesLineAndExpectedCount) {
    TempDir dir;
    const std::string path = dir.write("bad.csv", "\n1,2,3\n4,5,6\n7,8\n");
    EXPECT_THROW_MSG(
        read_csv(path), std::runtime_error,
        "read_csv: " + path + ": line 4: ragged row (got 2 cells, expected 3 as in line 2)");
}

TEST(ReadCsv, HeaderAndRowWidthsMustAgree) {
    TempDir dir;
    EXPECT_THROW_MSG(read_csv(dir.write("bad.csv", "a,b\n1,2,3\n"), with_header()),
                     std::runtime_error,
                     "line 2: the row has 3 cells but the header (line 1) names 2 columns");
}

TEST(ReadCsv, UnterminatedQuoteIsAnError) {
    TempDir dir;
    EXPECT_THROW_MSG(read_csv(dir.write("bad.csv", "1,\"2\n")), std::runtime_error,
                     "line 1, column 2: unterminated quote");
    EXPECT_THROW_MSG(read_csv(dir.write("bad2.csv", "1,\"2\"x\n")), std::runtime_error,
                     "line 1, column 2: text after the closing quote (got \"x\")");
}

TEST(ReadCsv, ValuesBeyondTheDtypeRangeAreErrors) {
    TempDir dir;
    const std::string path = dir.write("big.csv", "1e39\n");
    EXPECT_THROW_MSG(read_csv(path), std::runtime_error,
                     "line 1, column 1: out of range for float32 (got \"1e39\")");
    CsvOptions o;
    o.dtype = f64;
    EXPECT_EQ(read_csv(path, o).values.to_vector(), (std::vector<double>{1e39}));
    EXPECT_THROW_MSG(read_csv(dir.write("huge.csv", "1e400\n"), o), std::runtime_error,
                     "out of range for float64 (got \"1e400\")");
}

TEST(ReadCsv, LongBadCellsAreShortenedInTheMessage) {
    TempDir dir;
    EXPECT_THROW_MSG(read_csv(dir.write("bad.csv", std::string(100, 'x') + "\n")),
                     std::runtime_error, "(got \"" + std::string(37, 'x') + "...\")");
}

TEST(ReadCsv, MissingFileNamesThePath) {
    TempDir dir;
    const std::string path = dir.file("nope.csv");
    EXPECT_THROW_MSG(read_csv(path), std::runtime_error, "read_csv: " + path + ": file not found");
    EXPECT_THROW_MSG(read_csv(dir.path().string()), std::runtime_error, "not a regular file");
}

TEST(ReadCsv, RejectsAQuoteOrNewlineDelimiter) {
    CsvOptions o;
    o.delimiter = '"';
    EXPECT_THROW_MSG(parse_csv("1", "text", o), std::invalid_argument, "bad delimiter");
}

TEST(ReadCsv, ParseCsvNamesTheSourceInErrors) {
    EXPECT_THROW_MSG(parse_csv("1\nz\n", "<memory>"), std::runtime_error,
                     "read_csv: <memory>: line 2, column 1: not a number (got \"z\")");
}

TEST(CsvToDataset, SplitsTheLabelColumnFromTheFeatures) {
    TempDir dir;
    const CsvTable t = read_csv(dir.write("a.csv", "1,2,0\n3,4,1\n5,6,1\n"));
    const Dataset ds = to_dataset(t, 2);
    EXPECT_EQ(ds.features().shape(), Shape({3, 2}));
    EXPECT_EQ(ds.features().to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(ds.labels().to_vector(), (std::vector<double>{0, 1, 1}));
    EXPECT_EQ(to_dataset(t, 0).features().to_vector(), (std::vector<double>{2, 0, 4, 1, 6, 1}));
    EXPECT_THROW_MSG(to_dataset(t, 3), std::invalid_argument,
                     "no such label column (got 3, expected < 3)");
}

}  // namespace
}  // namespace xgrad::data
