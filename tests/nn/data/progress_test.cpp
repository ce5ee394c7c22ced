// ProgressBar: the plain-line format (logs, CI, pipes) with a fake clock, and the terminal bar.

#include "nn/data/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>

namespace xgrad::data {
namespace {

// A clock the test moves by hand.
struct FakeClock {
    double t = 0;
    std::function<double()> fn() {
        return [this] { return t; };
    }
};

ProgressOptions plain(std::ostream* out, FakeClock* clock, std::string label = "",
                      std::size_t every = 0) {
    ProgressOptions o;
    o.label = std::move(label);
    o.out = out;
    o.style = ProgressStyle::Plain;
    o.plain_every = every;
    o.clock = clock->fn();
    return o;
}

std::size_t count_lines(const std::string& s) {
    return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(ProgressBar, PlainStyleWritesALineEveryKStepsThenASummary) {
    std::ostringstream out;
    FakeClock clock;
    ProgressBar bar(4, plain(&out, &clock, "epoch 1/2", /*every=*/2));
    const double losses[] = {1.0, 0.5, 0.5, 0.5};
    for (double loss : losses) {
        clock.t += 0.5;
        bar.step(loss);
    }
    bar.finish("test acc 0.9");
    EXPECT_EQ(out.str(),
              "epoch 1/2 2/4 loss 0.7500 2.0 batch/s eta 0:01\n"
              "epoch 1/2 4/4 loss 0.6250 2.0 batch/s 2.0 s test acc 0.9\n");
}

TEST(ProgressBar, PlainStyleDefaultsToALineAboutEveryTenthOfTheTotal) {
    std::ostringstream out;
    FakeClock clock;
    {
        ProgressBar bar(25, plain(&out, &clock));
        for (int i = 0; i < 25; ++i) {
            clock.t += 0.1;
            bar.step(1.0);
        }
    }                                       // the destructor prints the summary
    EXPECT_EQ(count_lines(out.str()), 9u);  // steps 3, 6, ..., 24, then the summary
    EXPECT_EQ(out.str().substr(0, 4), "3/25");
    EXPECT_NE(out.str().find("\n25/25 loss 1.0000 10.0 batch/s 2.5 s\n"), std::string::npos);
}

TEST(ProgressBar, FinishPrintsOnceAndFreezesTheClock) {
    std::ostringstream out;
    FakeClock clock;
    ProgressBar bar(2, plain(&out, &clock, "", /*every=*/5));
    clock.t = 1;
    bar.step(0.25);
    bar.finish();
    clock.t = 100;
    bar.finish("again");
    bar.step(1.0);
    EXPECT_EQ(out.str(), "1/2 loss 0.2500 1.0 batch/s 1.0 s\n");
    EXPECT_EQ(bar.elapsed(), 1.0);
    EXPECT_EQ(bar.done(), 1u);
}

TEST(ProgressBar, TimeLeftShowsHoursPastAnHour) {
    std::ostringstream out;
    FakeClock clock;
    ProgressBar bar(10000, plain(&out, &clock, "", /*every=*/1));
    clock.t = 1;
    bar.step(2.0);
    EXPECT_EQ(out.str(), "1/10000 loss 2.0000 1.0 batch/s eta 2:46:39\n");
}

TEST(ProgressBar, NoElapsedTimeShowsDashesForRateAndTimeLeft) {
    std::ostringstream out;
    FakeClock clock;
    ProgressBar bar(3, plain(&out, &clock, "", /*every=*/1));
    bar.step(1.0);
    EXPECT_EQ(out.str(), "1/3 loss 1.0000 -- batch/s eta --:--\n");
}

TEST(ProgressBar, SummaryWithoutStepsShowsNoLoss) {
    std::ostringstream out;
    FakeClock clock;
    ProgressBar bar(0, plain(&out, &clock, "eval"));
    EXPECT_TRUE(std::isnan(bar.mean_loss()));
    bar.finish();
    EXPECT_EQ(out.str(), "eval 0/0 loss - -- batch/s 0.0 s\n");
}

TEST(ProgressBar, AutoStyleIsPlainForAStringStream) {
    std::ostringstream out;
    ProgressOptions o;
    o.out = &out;
    ProgressBar bar(1, o);
    EXPECT_FALSE(bar.terminal());
}

TEST(ProgressBar, TerminalStyleRedrawsOneLineInPlace) {
    std::ostringstream out;
    FakeClock clock;
    ProgressOptions o = plain(&out, &clock, "epoch 1/1");
    o.style = ProgressStyle::Terminal;
    o.redraw_seconds = 0;
    ProgressBar bar(4, o);
    clock.t = 1;
    bar.step(1.0);
    bar.step(1.0);
    EXPECT_EQ(out.str().find('\n'), std::string::npos);
    EXPECT_NE(out.str().find("\repoch 1/1 [############............] 2/4 loss 1.0000 2.0 batch/s "
                             "eta 0:01\x1b[K"),
              std::string::npos)
        << out.str();
    bar.finish("done");
    const std::string text = out.str();
    EXPECT_EQ(
        text.substr(text.rfind('\r')),
        "\repoch 1/1 [############............] 2/4 loss 1.0000 2.0 batch/s 1.0 s\x1b[K done\n");
}

TEST(ProgressBar, TerminalStyleThrottlesRedraws) {
    std::ostringstream out;
    FakeClock clock;
    ProgressOptions o = plain(&out, &clock);
    o.style = ProgressStyle::Terminal;
    o.redraw_seconds = 1.0;
    ProgressBar bar(100, o);
    for (int i = 0; i < 50; ++i) {
        clock.t += 0.01;
        bar.step(1.0);
    }
    const std::string text = out.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\r'), 1);  // the first step only
}

}  // namespace
}  // namespace xgrad::data
