#pragma once
// A progress bar for training loops: a redrawn bar on a terminal, plain lines elsewhere (logs,
// CI, pipes), so that captured output stays readable.

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

namespace xgrad::data {

enum class ProgressStyle {
    Auto,      // Terminal when the stream is std::cout/cerr/clog on a tty and TERM != dumb
    Terminal,  // one line redrawn in place with '\r'
    Plain,     // a new line every `plain_every` steps, and a summary line
};

struct ProgressOptions {
    /// Printed first on every line, e.g. "epoch 3/10".
    std::string label;
    /// Where to write; nullptr means std::cout.
    std::ostream* out = nullptr;
    ProgressStyle style = ProgressStyle::Auto;
    /// Plain style: a line every this many steps; 0 means about every 10% of the total.
    std::size_t plain_every = 0;
    /// Terminal style: the minimal time between two redraws, in seconds.
    double redraw_seconds = 0.1;
    /// Seconds on a monotonic clock; empty means std::chrono::steady_clock. Tests pass a fake.
    std::function<double()> clock;
};

/// Counts finished batches with their losses and shows the count, the mean loss so far, the
/// rate and the time left. Plain lines look like
///   epoch 1/5 100/469 loss 0.6132 812.3 batch/s eta 0:00
/// and the summary printed by finish() (or by the destructor) like
///   epoch 1/5 469/469 loss 0.5127 805.1 batch/s 0.6 s test acc 0.8312
/// Example:
///   ProgressBar bar(loader.num_batches(), {"epoch 1/5"});
///   for (const Batch& b : loader.epoch(0)) { ...; bar.step(loss.item()); }
///   bar.finish("test acc 0.8312");
class ProgressBar {
public:
    ProgressBar(std::size_t total, ProgressOptions options = {});
    /// Ends an unfinished bar with its summary line.
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    /// Records one finished step (batch) and its loss.
    void step(double loss);
    /// Prints the summary line, with `extra` appended after a space when not empty. Later calls
    /// do nothing.
    void finish(const std::string& extra = "");

    std::size_t done() const { return done_; }
    std::size_t total() const { return total_; }
    /// The mean of the losses passed to step() (NaN before the first step).
    double mean_loss() const;
    /// Seconds since construction (until finish()).
    double elapsed() const;
    /// Whether the output is drawn as a terminal bar.
    bool terminal() const { return terminal_; }

private:
    double now() const;
    std::string stats(bool summary) const;
    void draw_terminal(bool final_line);

    ProgressOptions options_;
    std::ostream* out_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t plain_every_;
    double loss_sum_ = 0;
    double start_;
    double end_ = -1;  // the time of finish(), once finished
    double last_draw_ = -1e300;
    bool terminal_;
    bool finished_ = false;
};

}  // namespace xgrad::data
