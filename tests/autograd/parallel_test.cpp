// parallel_for and the pool: chunk boundaries independent of the thread count, each chunk once,
// exceptions, nesting, concurrent callers; and the kernels that use it giving the same bits for
// 1 and 2 threads.

#include "autograd/parallel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "autograd/autograd.h"
#include "tests/support/check.h"

namespace xgrad {
namespace {

// Restores the thread count a test changed.
struct ThreadsGuard {
    int before = num_threads();
    ~ThreadsGuard() { set_num_threads(before); }
};

std::vector<std::pair<std::size_t, std::size_t>> chunks_seen(std::size_t b, std::size_t e,
                                                             std::size_t grain) {
    std::mutex m;
    std::vector<std::pair<std::size_t, std::size_t>> seen;
    parallel_for(b, e, grain, [&](std::size_t cb, std::size_t ce) {
        std::lock_guard<std::mutex> lock(m);
        seen.emplace_back(cb, ce);
    });
    std::sort(seen.begin(), seen.end());
    return seen;
}

TEST(ParallelFor, ChunkBoundariesDependOnlyOnTheRangeAndTheGrain) {
    ThreadsGuard guard;
    const std::vector<std::pair<std::size_t, std::size_t>> expected = {{3, 13}, {13, 23}, {23, 25}};
    for (int threads : {1, 2, 3}) {
        set_num_threads(threads);
        EXPECT_EQ(chunks_seen(3, 25, 10), expected) << threads << " threads";
        EXPECT_TRUE(chunks_seen(5, 5, 10).empty());
        EXPECT_EQ(chunks_seen(0, 4, 0).size(), 4u);  // grain 0 is taken as 1
    }
    EXPECT_EQ(num_chunks(3, 25, 10), 3u);
}

TEST(ParallelFor, EveryIndexRunsExactlyOnceOnSeveralThreads) {
    ThreadsGuard guard;
    set_num_threads(2);
    std::vector<int> hits(100000, 0);
    std::mutex m;
    std::set<std::thread::id> ids;
    for (int rep = 0; rep < 20; ++rep) {
        parallel_for(0, hits.size(), 1000, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) ++hits[i];
            std::lock_guard<std::mutex> lock(m);
            ids.insert(std::this_thread::get_id());
        });
    }
    for (int h : hits) ASSERT_EQ(h, 20);
    EXPECT_GE(ids.size(), 1u);
}

TEST(ParallelFor, TheFirstExceptionReachesTheCallerAndThePoolStillWorks) {
    ThreadsGuard guard;
    set_num_threads(2);
    EXPECT_THROW_MSG(parallel_for(0, 100, 1,
                                  [](std::size_t b, std::size_t) {
                                      if (b == 37) throw std::runtime_error("chunk 37 failed");
                                  }),
                     std::runtime_error, "chunk 37 failed");
    EXPECT_EQ(chunks_seen(0, 100, 10).size(), 10u);
}

TEST(ParallelFor, NestedCallsRunInlineOnTheCallingThread) {
    ThreadsGuard guard;
    set_num_threads(2);
    std::vector<std::size_t> sums(8, 0);
    parallel_for(0, 8, 1, [&](std::size_t b, std::size_t) {
        const std::thread::id me = std::this_thread::get_id();
        parallel_for(0, 1000, 10, [&](std::size_t ib, std::size_t ie) {
            EXPECT_EQ(std::this_thread::get_id(), me);
            for (std::size_t i = ib; i < ie; ++i) sums[b] += i;
        });
    });
    for (std::size_t s : sums) EXPECT_EQ(s, 499500u);
}

TEST(ParallelFor, ConcurrentCallersFromTwoThreadsBothFinish) {
    ThreadsGuard guard;
    set_num_threads(2);
    std::vector<double> out[2] = {std::vector<double>(200000), std::vector<double>(200000)};
    auto work = [&](int k) {
        for (int rep = 0; rep < 10; ++rep) {
            parallel_for(0, out[k].size(), 4096, [&](std::size_t b, std::size_t e) {
                for (std::size_t i = b; i < e; ++i) out[k][i] += double(i) * (k + 1);
            });
        }
    };
    std::thread t0(work, 0), t1(work, 1);
    t0.join();
    t1.join();
    for (std::size_t i = 0; i < out[0].size(); i += 997) {
        EXPECT_EQ(out[0][i], 10.0 * double(i));
        EXPECT_EQ(out[1][i], 20.0 * double(i));
    }
}

TEST(Threads, SetNumThreadsValidatesAndSetsThePool) {
    ThreadsGuard guard;
    set_num_threads(3);
    EXPECT_EQ(num_threads(), 3);
    EXPECT_THROW_MSG(set_num_threads(-1), std::invalid_argument, "set_num_threads", "got -1");
    EXPECT_EQ(num_threads(), 3);
}

// Runs f at 1 and at 2 threads; every returned array must be the same bits.
void expect_same_bits_for_1_and_2_threads(const std::function<std::vector<Array>()>& f) {
    ThreadsGuard guard;
    set_num_threads(1);
    const std::vector<Array> one = f();
    set_num_threads(2);
    const std::vector<Array> two = f();
    ASSERT_EQ(one.size(), two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        ASSERT_EQ(one[i].shape(), two[i].shape()) << "result " << i;
        EXPECT_EQ(std::memcmp(one[i].raw(), two[i].raw(), one[i].nbytes()), 0) << "result " << i;
    }
}

TEST(ParallelKernels, ElementwiseForwardAndBackwardAreBitIdenticalFor1And2Threads) {
    // 10^6 elements, above the 32K grain; broadcast operands take the strided path.
    expect_same_bits_for_1_and_2_threads([] {
        Tensor a = uniform({1000, 1000}, -2, 2, 1, f32, true);
        Tensor b = uniform({1000, 1000}, -2, 2, 2, f32, true);
        Tensor row = uniform({1, 1000}, -2, 2, 3, f32, true);
        Tensor y = exp(a) * b + tanh(a * row);
        Tensor loss = sum(y);
        loss.backward();
        return std::vector<Array>{y.value(), loss.value(), a.grad().value(), b.grad().value(),
                                  row.grad().value()};
    });
}

TEST(ParallelKernels, ReductionsAreBitIdenticalFor1And2Threads) {
    expect_same_bits_for_1_and_2_threads([] {
        Tensor x = uniform({300, 700}, -1, 1, 4, f32);
        Tensor big = uniform({3000000}, -1, 1, 5, f32);
        return std::vector<Array>{sum(x).value(), sum(x, {1}).value(), sum(x, {0}).value(),
                                  mean(x, {0, 1}).value(), sum(big).value()};
    });
}

TEST(ParallelKernels, ParallelSumsMatchADoubleLoop) {
    ThreadsGuard guard;
    set_num_threads(2);
    Tensor x = uniform({500, 300}, -1, 1, 6, f64);
    const std::vector<double> v = x.to_vector();
    double total = 0;
    std::vector<double> rows(500, 0.0), cols(300, 0.0);
    for (std::size_t i = 0; i < 500; ++i) {
        for (std::size_t j = 0; j < 300; ++j) {
            total += v[i * 300 + j];
            rows[i] += v[i * 300 + j];
            cols[j] += v[i * 300 + j];
        }
    }
    EXPECT_NEAR(sum(x).item(), total, 1e-9);
    const std::vector<double> r = sum(x, {1}).to_vector(), c = sum(x, {0}).to_vector();
    for (std::size_t i = 0; i < 500; ++i) EXPECT_NEAR(r[i], rows[i], 1e-12) << i;
    for (std::size_t j = 0; j < 300; ++j) EXPECT_EQ(c[j], cols[j]) << j;  // same order: exact
}

}  // namespace
}  // namespace xgrad
