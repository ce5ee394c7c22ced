#include "nn/data/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <utility>

namespace xgrad::data {

namespace {

constexpr std::size_t kBarWidth = 24;

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// "M:SS", or "H:MM:SS" from an hour on.
std::string duration(double seconds) {
    const auto s = static_cast<long long>(std::llround(seconds));
    char buf[64];
    if (s >= 3600) {
        std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
    }
    return buf;
}

bool is_terminal(const std::ostream* out) {
    int fd = -1;
    if (out == &std::cout) fd = STDOUT_FILENO;
    if (out == &std::cerr || out == &std::clog) fd = STDERR_FILENO;
    const char* term = std::getenv("TERM");
    return fd >= 0 && ::isatty(fd) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

}  // namespace

ProgressBar::ProgressBar(std::size_t total, ProgressOptions options)
    : options_(std::move(options)),
      out_(options_.out != nullptr ? options_.out : &std::cout),
      total_(total),
      plain_every_(options_.plain_every != 0 ? options_.plain_every
                                             : std::max<std::size_t>(1, (total + 9) / 10)),
      start_(now()),
      terminal_(options_.style == ProgressStyle::Terminal ||
                (options_.style == ProgressStyle::Auto && is_terminal(out_))) {}

ProgressBar::~ProgressBar() {
    try {
        finish();
    } catch (...) {  // a destructor must not throw; a failed write to the stream is dropped
    }
}

double ProgressBar::now() const {
    if (options_.clock) return options_.clock();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

double ProgressBar::mean_loss() const {
    return done_ == 0 ? std::numeric_limits<double>::quiet_NaN()
                      : loss_sum_ / static_cast<double>(done_);
}

double ProgressBar::elapsed() const { return (finished_ ? end_ : now()) - start_; }

std::string ProgressBar::stats(bool summary) const {
    const double seconds = elapsed();
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
    std::string s = std::to_string(done_) + "/" + std::to_string(total_);
    s += " loss " + (done_ == 0 ? std::string("-") : fixed(mean_loss(), 4));
    s += " " + (rate > 0 ? fixed(rate, 1) : std::string("--")) + " batch/s";
    if (summary) {
        s += " " + fixed(seconds, 1) + " s";
    } else {
        const std::size_t left = total_ > done_ ? total_ - done_ : 0;
        s += " eta " + (rate > 0 ? duration(static_cast<double>(left) / rate) : "--:--");
    }
    return s;
}

void ProgressBar::draw_terminal(bool final_line) {
    const std::size_t filled =
        total_ == 0 ? kBarWidth : std::min(done_, total_) * kBarWidth / total_;
    std::string line = "\r";
    if (!options_.label.empty()) line += options_.label + " ";
    line += "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
    line += stats(final_line);
    line += "\x1b[K";  // clear what a longer previous line left
    *out_ << line;
    out_->flush();
}

void ProgressBar::step(double loss) {
    if (finished_) return;
    ++done_;
    loss_sum_ += loss;
    if (terminal_) {
        const double t = now();
        if (t - last_draw_ >= options_.redraw_seconds || done_ == total_) {
            last_draw_ = t;
            draw_terminal(/*final_line=*/false);
        }
    } else if (done_ % plain_every_ == 0 && done_ < total_) {
        // The last step is left to finish(), which prints the summary instead.
        *out_ << (options_.label.empty() ? "" : options_.label + " ") << stats(false) << "\n";
        out_->flush();
    }
}

void ProgressBar::finish(const std::string& extra) {
    if (finished_) return;
    end_ = now();
    finished_ = true;
    const std::string tail = extra.empty() ? "" : " " + extra;
    if (terminal_) {
        draw_terminal(/*final_line=*/true);
        *out_ << tail << "\n";
    } else {
        *out_ << (options_.label.empty() ? "" : options_.label + " ") << stats(true) << tail
              << "\n";
    }
    out_->flush();
}

}  // namespace xgrad::data
