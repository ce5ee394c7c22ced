#pragma once
// Numeric CSV files: a table of numbers with an optional header line, gzip or not.
//
// Why not xtensor's xcsv: it converts cells with std::stod, which is locale-dependent, accepts
// "1abc" as 1, and reports errors without the line or column. This reader is strict (a cell
// is one whole number, from std::from_chars: "1.5", "-2e-3", "nan", "inf"; a leading '+' is
// allowed) and every error names the file, the line and the column.
//
// Accepted layout: one record per line ("\n" or "\r\n"); cells separated by the delimiter;
// spaces and tabs around a cell ignored; a cell may be enclosed in double quotes ("" inside
// stands for one quote), but not span lines; blank lines skipped.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "autograd/array.h"
#include "nn/data/dataset.h"

namespace xgrad::data {

struct CsvOptions {
    /// The first non-blank line holds the column names.
    bool header = false;
    char delimiter = ',';
    /// The dtype of the values (a float32 cell beyond +-3.4e38 is an error, not inf).
    DType dtype = f32;
};

/// A parsed CSV file.
/// Example:
///   CsvTable t = read_csv("iris.csv", options);   // options.header = true
///   t.values.shape().str() == "(150,5)";  t.column("species") == 4
struct CsvTable {
    /// Names from the header line; empty without a header.
    std::vector<std::string> columns;
    /// (rows, cols) in the requested dtype.
    Array values;

    std::size_t rows() const { return values.shape()[0]; }
    std::size_t cols() const { return values.shape()[1]; }
    /// The index of a named column; throws std::invalid_argument listing the names.
    std::size_t column(const std::string& name) const;
};

/// Reads a numeric CSV file, gzip-compressed or not (detected from the content). Throws
/// std::runtime_error "read_csv: <path>: line L, column C: <problem> (got ...)" for a cell that
/// is not a number, a ragged row, an unterminated quote; "<path>: file not found" and the like.
CsvTable read_csv(const std::string& path, const CsvOptions& options = {});

/// Parses CSV text held in memory; `source` names it in error messages.
CsvTable parse_csv(std::string_view text, const std::string& source,
                   const CsvOptions& options = {});

/// A dataset whose labels (N) are column `label_column` and whose features (N, cols-1) are the
/// other columns, in order. Throws std::invalid_argument if the column does not exist.
Dataset to_dataset(const CsvTable& table, std::size_t label_column);

}  // namespace xgrad::data
