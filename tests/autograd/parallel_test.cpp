// parallel_for and the pool: chunk boundaries independent of the thread count, each chunk once,
// exceptions, nesting, concurrent callers; and the kernels that use it giving the same bits for
// 1 and 2 threads.

#include "autograd/parallel.h"

#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
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

// Restores the wait policy a test changed.
struct PolicyGuard {
    WaitPolicy before = wait_policy();
    ~PolicyGuard() { set_wait_policy(before); }
};

double process_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

TEST(Threads, WaitPolicyIsPassiveByDefaultAndParsesOpenMPsNames) {
    PolicyGuard guard;
    if (std::getenv("XGRAD_WAIT_POLICY") == nullptr) {
        EXPECT_EQ(wait_policy(), WaitPolicy::kPassive);
    }
    set_wait_policy(WaitPolicy::kActive);
    EXPECT_EQ(wait_policy(), WaitPolicy::kActive);
    set_wait_policy(WaitPolicy::kPassive);
    EXPECT_EQ(wait_policy(), WaitPolicy::kPassive);
    EXPECT_EQ(detail::parse_wait_policy("active"), WaitPolicy::kActive);
    EXPECT_EQ(detail::parse_wait_policy("PASSIVE"), WaitPolicy::kPassive);
    EXPECT_THROW_MSG(detail::parse_wait_policy("spin"), std::invalid_argument, "XGRAD_WAIT_POLICY",
                     "passive or active", "\"spin\"");
}

TEST(Threads, ActiveWaitingRunsEveryChunkOnceAndPassesExceptions) {
    ThreadsGuard threads;
    PolicyGuard guard;
    set_num_threads(2);
    set_wait_policy(WaitPolicy::kActive);
    std::vector<int> hits(100000, 0);
    for (int rep = 0; rep < 50; ++rep) {
        parallel_for(0, hits.size(), 1000, [&](std::size_t b, std::size_t e) {
            for (std::size_t i = b; i < e; ++i) ++hits[i];
        });
    }
    for (int h : hits) ASSERT_EQ(h, 50);
    EXPECT_THROW_MSG(parallel_for(0, 100, 1,
                                  [](std::size_t b, std::size_t) {
                                      if (b == 37) throw std::runtime_error("chunk 37 failed");
                                  }),
                     std::runtime_error, "chunk 37 failed");
    EXPECT_EQ(chunks_seen(0, 100, 10).size(), 10u);
    // A resize while the worker polls (it must see the stop and leave).
    set_num_threads(3);
    EXPECT_EQ(chunks_seen(0, 100, 10).size(), 10u);
}

TEST(Threads, ActiveWaitingStopsPollingSoonAfterTheLastJob) {
    ThreadsGuard threads;
    PolicyGuard guard;
    set_num_threads(2);
    set_wait_policy(WaitPolicy::kActive);
    // Chunks long enough that the worker surely wakes and joins; it then polls.
    std::set<std::thread::id> ran;
    std::mutex m;
    parallel_for(0, 8, 1, [&](std::size_t, std::size_t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::lock_guard<std::mutex> lock(m);
        ran.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(ran.size(), 2u);
    // The worker polls for at most 200 us, then sleeps: 300 ms later the process uses no CPU.
    // (A worker that kept polling would use all of the 300 ms.)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const double before = process_cpu_seconds();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_LT(process_cpu_seconds() - before, 0.1);
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
    // 10^6 elements, above the 32K grain; broadcast operands take the strided path. Both wait
    // policies (they change who runs which chunk, never the chunks).
    PolicyGuard guard;
    for (WaitPolicy policy : {WaitPolicy::kPassive, WaitPolicy::kActive}) {
        set_wait_policy(policy);
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
}

TEST(ParallelKernels, ReductionsAreBitIdenticalFor1And2Threads) {
    expect_same_bits_for_1_and_2_threads([] {
        Tensor x = uniform({300, 700}, -1, 1, 4, f32);
        Tensor big = uniform({3000000}, -1, 1, 5, f32);
        return std::vector<Array>{sum(x).value(), sum(x, {1}).value(), sum(x, {0}).value(),
                                  mean(x, {0, 1}).value(), sum(big).value()};
    });
}

// ---- 1 vs 2 vs 4 threads, every reduction, softmax and the copies (issue "The ops real models
// need"). Sizes above the 32K grain and not multiples of it (the last chunk is short).
//
// Kernels whose every output element comes from one chunk (maps, copies, a line of softmax or
// cumsum, one slice's extreme) give the same bits for any chunking, so for them the check is
// only that the chunks cover the work right: each is also compared with the op applied to a
// small piece, which runs as one chunk. Kernels that combine per-chunk partial results (a sum,
// a product or a softmax over one long line) depend on where the chunks begin; their inputs are
// chosen to make any change of the boundaries visible, and the test checks that they do:
// with the hook that makes chunk boundaries depend on the thread count (scaled grain), 1 and
// 2 threads must then differ.

// Output i of f at each thread count: every array must be the same bits at 1, 2 and 4.
std::vector<Array> run_at(int threads, const std::function<std::vector<Array>()>& f) {
    set_num_threads(threads);
    return f();
}
bool same_bits(const std::vector<Array>& a, const std::vector<Array>& b, std::string* which) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].shape() != b[i].shape() || a[i].dtype() != b[i].dtype() ||
            std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes()) != 0) {
            if (which) *which = "result " + std::to_string(i) + " " + a[i].shape().str();
            return false;
        }
    }
    return true;
}
// Resets the hook however the test ends.
struct ChunkHookGuard {
    ~ChunkHookGuard() { detail::set_thread_dependent_chunks_for_testing(false); }
};
void expect_thread_count_independent(const std::function<std::vector<Array>()>& f,
                                     bool combines_chunks) {
    ThreadsGuard guard;
    const std::vector<Array> one = run_at(1, f);
    for (int threads : {2, 4}) {
        std::string which;
        EXPECT_TRUE(same_bits(one, run_at(threads, f), &which))
            << which << " differs between 1 and " << threads << " threads";
    }
    if (!combines_chunks) return;
    // The test must be able to fail: with chunks that grow with the thread count, some result
    // has to change.
    ChunkHookGuard hook;
    detail::set_thread_dependent_chunks_for_testing(true);
    const std::vector<Array> hooked_one = run_at(1, f);
    EXPECT_FALSE(same_bits(hooked_one, run_at(2, f), nullptr))
        << "a chunking that depends on the thread count goes unnoticed by this test";
}

// A float32 leaf of `shape` with values U[-1, 1) and, when `spikes`, +2^60 at element 0 and
// -2^60 at the last: a sum then loses the small terms that share a partial sum with a spike,
// so it shows where every chunk begins.
Tensor leaf(Shape shape, std::uint64_t seed, bool spikes = false, DType dtype = f32) {
    Array v = uniform(std::move(shape), -1, 1, seed, dtype).value();
    if (spikes) {
        v.set(0, std::ldexp(1.0, 60));
        v.set(v.numel() - 1, -std::ldexp(1.0, 60));
    }
    return Tensor(std::move(v), /*requires_grad=*/true);
}
// y's gradient pulled back through sum(y * w) with w fixed: every element of the seed differs.
void backward_weighted(const Tensor& y, std::uint64_t seed) {
    sum(y * uniform(y.shape(), -1, 1, seed, y.dtype())).backward();
}

constexpr std::size_t kOdd = 3 * (std::size_t(32) << 10) + 12345;  // 110649: 4 chunks, short last

TEST(ParallelKernels, SumAndMeanOfEverythingAreThreadCountIndependent) {
    expect_thread_count_independent(
        [] {
            Tensor x = leaf({kOdd}, 11, /*spikes=*/true);
            Tensor d = leaf({kOdd}, 12, false, f64);
            Tensor s = sum(x), m = mean(x), sd = sum(d);
            (s + m).backward();
            sd.backward();
            return std::vector<Array>{s.value(), m.value(), sd.value(), x.grad().value(),
                                      d.grad().value()};
        },
        /*combines_chunks=*/true);
}

TEST(ParallelKernels, SumAndMeanOverDimsAreThreadCountIndependent) {
    // Trailing, leading and middle axes (the middle ones through a permuted copy).
    expect_thread_count_independent(
        [] {
            Tensor x = leaf({7, 5003, 9}, 13);
            Tensor a = sum(x, {2}), b = sum(x, {0}), c = sum(x, {1}), d = mean(x, {0, 2}, true);
            backward_weighted(a, 1);
            backward_weighted(b, 2);
            backward_weighted(c, 3);
            backward_weighted(d, 4);
            return std::vector<Array>{a.value(), b.value(), c.value(), d.value(), x.grad().value()};
        },
        false);
    // The middle-axis path against the op on one slice (below the grain: one chunk).
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor x = leaf({7, 5003, 9}, 13).detach();
    const std::vector<float> all = sum(x, {1}).to_vector<float>();
    for (std::size_t b : {0, 3, 6}) {
        const Tensor slice =
            narrow(x, 0, static_cast<std::int64_t>(b), 1);  // (1, 5003, 9): 45027 elements
        const std::vector<float> one = sum(reshape(slice, {5003, 9}), {0}).to_vector<float>();
        for (std::size_t j = 0; j < 9; ++j) EXPECT_NEAR(all[b * 9 + j], one[j], 1e-4) << b << j;
    }
}

TEST(ParallelKernels, ExtremesAndTheirIndicesAreThreadCountIndependent) {
    // Ties across chunk boundaries: the first one must win, as serially.
    auto tied = [] {
        Array v = uniform({kOdd}, -1, 1, 21).value();
        for (std::size_t i : {std::size_t(40000), std::size_t(70000), kOdd - 1}) v.set(i, 2.0);
        for (std::size_t i : {std::size_t(50000), std::size_t(90000)}) v.set(i, -2.0);
        return Tensor(std::move(v), true);
    };
    expect_thread_count_independent(
        [&] {
            Tensor x = tied();
            Tensor m = leaf({13, 4099, 3}, 22);
            Tensor a = amax(x), b = amin(x), c = amax(m, {1}), d = amin(m, {0, 2});
            auto [mv, mi] = max(m, 1);
            auto [nv, ni] = min(m, 0, true);
            Tensor am = argmax(x), an = argmin(x), ad = argmax(m, 1), bd = argmin(m, 2);
            backward_weighted(a + b, 1);
            backward_weighted(c, 2);
            backward_weighted(d, 3);
            backward_weighted(mv, 4);
            backward_weighted(nv, 5);
            return std::vector<Array>{a.value(),        b.value(),       c.value(),  d.value(),
                                      mv.value(),       mi.value(),      nv.value(), ni.value(),
                                      am.value(),       an.value(),      ad.value(), bd.value(),
                                      x.grad().value(), m.grad().value()};
        },
        false);
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor x = tied();
    EXPECT_EQ(argmax(x).item(), 40000.0);  // the first of the three 2s
    EXPECT_EQ(argmin(x).item(), 50000.0);
    EXPECT_EQ(amax(x).item(), 2.0);
    const std::vector<float> g = [&] {
        Tensor y = amax(x);
        y.backward();
        return x.grad().to_vector<float>();
    }();
    EXPECT_FLOAT_EQ(g[40000] + g[70000] + g[kOdd - 1], 1.0f);  // split among the three ties
    EXPECT_FLOAT_EQ(g[70000], 1.0f / 3);
}

TEST(ParallelKernels, LogsumexpVarStdAndNormAreThreadCountIndependent) {
    expect_thread_count_independent(
        [] {
            Tensor x = leaf({11, 10007}, 31);
            // One long float64 line: sums of per-chunk partial sums, every bit of which
            // reaches a float64 result.
            Tensor w = leaf({kOdd}, 32, false, f64);
            Tensor outs[] = {logsumexp(x, {1}),
                             logsumexp(x, {0}, true),
                             var(x, {1}),
                             std(x, {0}),
                             var(x),
                             std(x),
                             norm(x, 2, {1}),
                             norm(x, 1, {0}),
                             norm(x, INFINITY, {1}),
                             norm(x),
                             norm(w, 1),
                             var(w),
                             std(w),
                             norm(w),
                             logsumexp(w, {0})};
            std::vector<Array> r;
            std::uint64_t seed = 1;
            for (Tensor& y : outs) {
                backward_weighted(y, seed++);
                r.push_back(y.value());
            }
            r.push_back(x.grad().value());
            r.push_back(w.grad().value());
            return r;
        },
        /*combines_chunks=*/true);
}

TEST(ParallelKernels, ProdAndCumsumAreThreadCountIndependent) {
    expect_thread_count_independent(
        [] {
            // Factors near 1 so that the product of everything stays finite.
            Tensor x = Tensor(uniform({kOdd}, 0.999, 1.001, 41, f64).value(), true);
            Tensor p = prod(x);
            backward_weighted(p, 1);
            return std::vector<Array>{p.value(), x.grad().value()};
        },
        /*combines_chunks=*/true);
    expect_thread_count_independent(
        [] {
            Tensor m = leaf({9, 4001, 5}, 42);
            Tensor z = Tensor(uniform({9, 4001, 5}, -1, 1, 43).value(), true);
            Tensor pd = prod(m, 1), c1 = cumsum(m, 1), c2 = cumsum(m, 2), c0 = cumsum(m, 0);
            backward_weighted(pd, 2);
            backward_weighted(c1, 3);
            backward_weighted(c2, 4);
            backward_weighted(c0, 5);
            // A zero in a slice: prod's backward takes the product of the other factors.
            Array zv = z.value();
            zv.set(7, 0.0);
            Tensor z0 = Tensor(zv, true);
            Tensor pz = prod(z0, 2);
            backward_weighted(pz, 6);
            return std::vector<Array>{pd.value(), c1.value(),       c2.value(),       c0.value(),
                                      pz.value(), m.grad().value(), z0.grad().value()};
        },
        false);
    // One line of the scan computed alone (one chunk) equals the same line of the big one.
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor m = leaf({9, 4001, 5}, 42).detach();
    const Tensor c1 = cumsum(m, 1);
    const Tensor line = cumsum(narrow(m, 0, 4, 1), 1);
    const std::vector<float> big = narrow(c1, 0, 4, 1).to_vector<float>(),
                             one = line.to_vector<float>();
    EXPECT_EQ(big, one);
}

TEST(ParallelKernels, SoftmaxAndLogSoftmaxAreThreadCountIndependent) {
    expect_thread_count_independent(
        [] {
            Tensor x = leaf({301, 1003}, 51);
            Tensor y = leaf({37, 1001, 3}, 52);
            Tensor outs[] = {softmax(x, 1), log_softmax(x, 1), softmax(y, 1), log_softmax(y, 0)};
            std::vector<Array> r;
            std::uint64_t seed = 1;
            for (Tensor& o : outs) {
                backward_weighted(o, seed++);
                r.push_back(o.value());
            }
            r.push_back(x.grad().value());
            r.push_back(y.grad().value());
            return r;
        },
        false);
    expect_thread_count_independent(
        [] {
            // One long line: per-chunk sums of exponentials (float64, so every bit of the sum
            // reaches the result).
            Tensor z = leaf({kOdd}, 53, false, f64);
            Tensor a = softmax(z, 0), b = log_softmax(z, 0);
            backward_weighted(a, 1);
            backward_weighted(b, 2);
            return std::vector<Array>{a.value(), b.value(), z.grad().value()};
        },
        /*combines_chunks=*/true);
    // Rows of the big softmax against the op on one row (one chunk): the same bits.
    ThreadsGuard guard;
    set_num_threads(2);
    const Tensor x = leaf({301, 1003}, 51).detach();
    const Tensor y = softmax(x, 1);
    for (std::int64_t r : {0, 150, 300}) {
        EXPECT_EQ(narrow(y, 0, r, 1).to_vector<float>(),
                  softmax(narrow(x, 0, r, 1), 1).to_vector<float>())
            << "row " << r;
    }
}

TEST(ParallelKernels, PermuteAndCatCopiesAreThreadCountIndependent) {
    expect_thread_count_independent(
        [] {
            Tensor x = leaf({17, 67, 43}, 61);
            Tensor a = leaf({3, 11003}, 62), b = leaf({3, 7}, 63), c = leaf({5, 11003}, 64);
            Tensor e = leaf({0, 11003}, 65);
            Tensor p1 = permute(x, {0, 2, 1}), p2 = permute(x, {2, 1, 0}),
                   p3 = permute(x, {1, 0, 2});
            Tensor k0 = cat({a, e, c}, 0), k1 = cat({a, b, a}, 1);
            backward_weighted(p1, 1);
            backward_weighted(p2, 2);
            backward_weighted(p3, 3);
            backward_weighted(k0, 4);
            backward_weighted(k1, 5);
            return std::vector<Array>{p1.value(),       p2.value(),       p3.value(),
                                      k0.value(),       k1.value(),       x.grad().value(),
                                      a.grad().value(), b.grad().value(), c.grad().value()};
        },
        false);
    // Against plain index loops.
    ThreadsGuard guard;
    set_num_threads(4);
    const Tensor x = leaf({17, 67, 43}, 61).detach();
    const std::vector<float> v = x.to_vector<float>(), p = permute(x, {2, 1, 0}).to_vector<float>();
    for (std::size_t i = 0; i < 17; ++i) {
        for (std::size_t j = 0; j < 67; ++j) {
            for (std::size_t k = 0; k < 43; ++k) {
                ASSERT_EQ(p[(k * 67 + j) * 17 + i], v[(i * 67 + j) * 43 + k]) << i << j << k;
            }
        }
    }
    const Tensor a = leaf({3, 11003}, 62).detach(), b = leaf({3, 7}, 63).detach();
    const std::vector<float> va = a.to_vector<float>(), vb = b.to_vector<float>();
    const std::vector<float> k = cat({a, b, a}, 1).to_vector<float>();
    const std::size_t w = 2 * 11003 + 7;
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t j = 0; j < 11003; ++j) {
            ASSERT_EQ(k[r * w + j], va[r * 11003 + j]) << r << " " << j;
            ASSERT_EQ(k[r * w + 11010 + j], va[r * 11003 + j]) << r << " " << j;
        }
        for (std::size_t j = 0; j < 7; ++j) ASSERT_EQ(k[r * w + 11003 + j], vb[r * 7 + j]);
    }
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
