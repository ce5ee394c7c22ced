// The character-level language model example (examples/char_lm.h): the word list's cleaning,
// the seeded split, the windows and their padding, the bigram baseline against a hand count,
// and short LSTM and Transformer runs on the real word list that learn and sample reproducibly.

#include "examples/char_lm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace xgrad::examples {
namespace {

const char* const kWords = "/usr/share/dict/american-english";

std::string write_list(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() / "xgrad_char_lm_words.txt";
    std::ofstream(path) << text;
    return path.string();
}

TEST(CharLm, WordsAreLowerCasedAToZUniqueAndSorted) {
    const auto words = load_words(write_list("Zebra\nzebra\napple's\nCafé\nb\n\nAa\n"));
    EXPECT_EQ(words, (std::vector<std::string>{"aa", "b", "zebra"}));
    EXPECT_THROW(load_words("/nonexistent/words"), std::runtime_error);
}

TEST(CharLm, TheSplitIsSeededAndCoversEveryWordOnce) {
    std::vector<std::string> words;
    for (int i = 0; i < 100; ++i) words.push_back("w" + std::to_string(i));
    const auto [train, dev] = split_words(words, 1);
    EXPECT_EQ(train.size(), 90u);
    EXPECT_EQ(dev.size(), 10u);
    std::vector<std::string> all(train);
    all.insert(all.end(), dev.begin(), dev.end());
    EXPECT_EQ(split_words(words, 1).second, dev);
    EXPECT_NE(split_words(words, 2).second, dev);
    std::sort(all.begin(), all.end());
    std::sort(words.begin(), words.end());
    EXPECT_EQ(all, words);
}

TEST(CharLm, WindowsPredictEveryCharacterAndTheEndWithPaddingMarked) {
    // "ab" -> . a b . : inputs . a b, targets a b .; a context of 2 needs two windows.
    const CharWindows w = make_windows({"ab"}, 2);
    EXPECT_EQ(w.rows, 2u);
    EXPECT_EQ(w.targets, 3u);
    EXPECT_EQ(w.x, (std::vector<std::int64_t>{0, 1, 2, 0}));
    EXPECT_EQ(w.y, (std::vector<std::int64_t>{1, 2, 0, -1}));
}

TEST(CharLm, BigramLossIsTheAddOneCountedNegativeLogLikelihood) {
    // Train "ab": counts 1 everywhere, +1 for (.,a), (a,b), (b,.); each row sums to 27 or 28.
    // Dev "a": predictions (.,a) and (a,.): p = 2/28 and 1/28.
    const double expected = -(std::log(2.0 / 28.0) + std::log(1.0 / 28.0)) / 2.0;
    EXPECT_DOUBLE_EQ(bigram_dev_loss({"ab"}, {"a"}), expected);
}

TEST(CharLm, ShortRunsOnTheWordListLearnAndSampleReproducibly) {
    if (!std::filesystem::exists(kWords)) GTEST_SKIP() << "wamerican is not installed";
    CharLmOptions o;
    o.train_limit = 320;
    o.dev_limit = 60;
    o.epochs = 2;
    o.batch_size = 32;
    o.samples = 5;
    std::ostringstream log;
    o.out = &log;
    const CharLmResult r = run_char_lm(o);
    EXPECT_GT(r.words, 50000u);
    ASSERT_EQ(r.models.size(), 2u);
    for (const CharLmScore& s : r.models) {
        // Both learn: below the uniform model's log 27 = 3.30 nats, and better after epoch 2.
        EXPECT_LT(s.dev_loss, std::log(27.0)) << s.model;
        EXPECT_LT(s.epoch_dev_loss[1], s.epoch_dev_loss[0]) << s.model;
        EXPECT_EQ(s.samples.size(), 5u);
    }
    EXPECT_NE(log.str().find("bigram (counted, add-one): dev loss"), std::string::npos);
    o.model = "transformer";  // the same seed again: the same training, bit for bit
    const CharLmResult again = run_char_lm(o);
    ASSERT_EQ(again.models.size(), 1u);
    EXPECT_EQ(again.models[0].dev_loss, r.models[1].dev_loss);
    EXPECT_EQ(again.models[0].samples, r.models[1].samples);
}

}  // namespace
}  // namespace xgrad::examples
