#pragma once
// A character-level language model on real text, makemore-style: Debian's wamerican word list
// (/usr/share/dict/american-english), every word lower-cased and kept when it is only a-z (no
// possessives, no accents), de-duplicated and sorted; then split into train and dev by a seeded
// shuffle that is the same on every platform. Each word is the token sequence
// . w0 w1 ... w(L-1) .  (27 tokens: 0 is the boundary '.', 1-26 are a-z); a model with context
// T = 16 reads the sequence in windows of T inputs and predicts each next token (a word of 16 or
// more letters is read in several windows; a window starts where the previous one ended, so a
// prediction sees at most T tokens of its word).
//
// Three models, each scored as the mean cross-entropy in nats per predicted character over the
// whole dev set (end tokens included):
//   bigram       counted transitions with add-one smoothing (the baseline both must beat)
//   lstm         Embedding(27, 64) -> LSTM(64, 128, batch_first) -> Linear(128, 27)
//   transformer  token + position Embeddings (d_model 64) -> 2 TransformerEncoderLayers (4 heads,
//                feed-forward 256, GELU, norm_first, causal mask) -> LayerNorm -> Linear(64, 27)
// then 20 words sampled from each trained model with a seeded sampler.
//
// Header-only, so that the standalone main (examples/char_lm.cpp), the demo and the integration
// test (tests/examples/char_lm_test.cpp) run the same code. Link xgrad::nn.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/grad_mode.h"
#include "nn/nn.h"

namespace xgrad::examples {

inline constexpr std::int64_t kCharVocab = 27;  // '.' and a-z
inline constexpr std::size_t kCharVocabSize = 27;
inline constexpr std::int64_t kCharBoundary = 0;

/// What the run trains, on how much, and for how long.
struct CharLmOptions {
    std::string words_path = "/usr/share/dict/american-english";
    /// "lstm", "transformer" or "both".
    std::string model = "both";
    std::size_t epochs = 2;
    std::size_t batch_size = 64;  // sequences (windows) per step
    std::size_t context = 16;
    /// Use only the first N words of the shuffled train / dev sets; 0 means all.
    std::size_t train_limit = 0;
    std::size_t dev_limit = 0;
    /// Seeds the split, the initial weights, the batch order and the sampler.
    std::uint64_t seed = 1;
    double lr = 3e-3;
    std::size_t samples = 20;
    /// Where to print; nullptr means std::cout.
    std::ostream* out = nullptr;
};

/// One model's result.
struct CharLmScore {
    std::string model;
    double dev_loss = 0;                 // nats per character
    std::vector<double> epoch_dev_loss;  // after each epoch
    double seconds = 0;                  // training time
    std::size_t parameters = 0;
    std::vector<std::string> samples;
};

struct CharLmResult {
    std::size_t words = 0, train_words = 0, dev_words = 0, dev_chars = 0;
    double bigram_dev_loss = 0;
    std::vector<CharLmScore> models;
};

/// The word list: lower-cased, only words of a-z, unique, sorted. Throws std::runtime_error
/// naming the path and the Debian package when it cannot be read.
inline std::vector<std::string> load_words(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("char_lm: cannot read the word list " + path +
                                 " (Debian: apt-get install wamerican)");
    }
    std::vector<std::string> words;
    for (std::string line; std::getline(in, line);) {
        bool ok = !line.empty();
        for (char& c : line) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
            ok = ok && c >= 'a' && c <= 'z';
        }
        if (ok) words.push_back(line);
    }
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    if (words.empty()) throw std::runtime_error("char_lm: no a-z words in " + path);
    return words;
}

/// A uniform integer in [0, n) from mt19937_64, by rejection: the same on every platform (the
/// standard fixes mt19937_64's output, not std::uniform_int_distribution's).
inline std::uint64_t char_lm_below(std::mt19937_64& g, std::uint64_t n) {
    const std::uint64_t limit = ~std::uint64_t(0) - (~std::uint64_t(0) % n);
    std::uint64_t r;
    do r = g();
    while (r >= limit);
    return r % n;
}

/// A uniform double in [0, 1) with 53 random bits.
inline double char_lm_uniform(std::mt19937_64& g) {
    return static_cast<double>(g() >> 11) * (1.0 / 9007199254740992.0);
}

/// Fisher-Yates with char_lm_below: a fixed permutation for a seed on every platform.
template <class T>
void char_lm_shuffle(std::vector<T>& v, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[char_lm_below(g, i)]);
}

/// Train and dev words: a seeded shuffle, then the last tenth is dev.
inline std::pair<std::vector<std::string>, std::vector<std::string>> split_words(
    std::vector<std::string> words, std::uint64_t seed) {
    char_lm_shuffle(words, seed);
    const std::size_t dev = words.size() / 10;
    std::vector<std::string> d(words.end() - static_cast<std::ptrdiff_t>(dev), words.end());
    words.resize(words.size() - dev);
    return {words, d};
}

inline std::int64_t char_token(char c) { return c == '.' ? 0 : c - 'a' + 1; }
inline char token_char(std::int64_t t) { return t == 0 ? '.' : static_cast<char>('a' + t - 1); }

/// Windows of `context` inputs and their targets, row-major (rows, context); a target of -1 is
/// padding (no prediction there). Every word gives ceil((L + 1) / context) rows.
struct CharWindows {
    std::vector<std::int64_t> x, y;
    std::size_t rows = 0, context = 0, targets = 0;
};

inline CharWindows make_windows(const std::vector<std::string>& words, std::size_t context) {
    CharWindows w;
    w.context = context;
    for (const std::string& word : words) {
        std::vector<std::int64_t> s{kCharBoundary};
        for (char c : word) s.push_back(char_token(c));
        s.push_back(kCharBoundary);
        const std::size_t predictions = s.size() - 1;  // L + 1
        for (std::size_t start = 0; start < predictions; start += context) {
            for (std::size_t t = 0; t < context; ++t) {
                const bool real = start + t < predictions;
                w.x.push_back(real ? s[start + t] : kCharBoundary);
                w.y.push_back(real ? s[start + t + 1] : -1);
                w.targets += real ? 1 : 0;
            }
            ++w.rows;
        }
    }
    return w;
}

/// The counted bigram model's mean -log p(next | previous) over the dev words' predictions,
/// p from the train words' transition counts with add-one smoothing.
inline double bigram_dev_loss(const std::vector<std::string>& train,
                              const std::vector<std::string>& dev) {
    std::vector<double> counts(kCharVocabSize * kCharVocabSize, 1.0);
    auto each = [](const std::string& word, auto&& f) {
        std::int64_t prev = kCharBoundary;
        for (char c : word) {
            f(prev, char_token(c));
            prev = char_token(c);
        }
        f(prev, kCharBoundary);
    };
    for (const std::string& w : train) {
        each(w, [&](std::int64_t a, std::int64_t b) { counts[a * kCharVocab + b] += 1; });
    }
    std::vector<double> rows(kCharVocabSize, 0.0);
    for (std::int64_t a = 0; a < kCharVocab; ++a) {
        for (std::int64_t b = 0; b < kCharVocab; ++b) rows[a] += counts[a * kCharVocab + b];
    }
    double nll = 0;
    std::size_t n = 0;
    for (const std::string& w : dev) {
        each(w, [&](std::int64_t a, std::int64_t b) {
            nll -= std::log(counts[a * kCharVocab + b] / rows[a]);
            ++n;
        });
    }
    return nll / static_cast<double>(n);
}

/// A model of token windows: (N, T) Int64 -> logits (N, T, 27), causal (position t sees inputs
/// 0..t only).
class CharModel : public nn::Module {
public:
    using nn::Module::Module;
    virtual Tensor logits(const Tensor& tokens) = 0;
    Tensor forward(const Tensor& tokens) override { return logits(tokens); }
};

/// Embedding(27, 64) -> LSTM(64, 128, batch_first) -> Linear(128, 27).
class CharLstm : public CharModel {
public:
    explicit CharLstm(std::size_t embed = 64, std::size_t hidden = 128) : CharModel("CharLstm") {
        emb_ = register_module(
            "emb", std::make_shared<nn::Embedding>(nn::EmbeddingOptions(kCharVocabSize, embed)));
        lstm_ = register_module(
            "lstm", std::make_shared<nn::LSTM>(nn::LSTMOptions(embed, hidden).batch_first(true)));
        head_ = register_module("head", std::make_shared<nn::Linear>(hidden, kCharVocabSize));
    }
    Tensor logits(const Tensor& tokens) override {
        const Tensor out = std::get<0>(lstm_->forward(emb_->forward(tokens)));
        return head_->forward(out);
    }

private:
    std::shared_ptr<nn::Embedding> emb_;
    std::shared_ptr<nn::LSTM> lstm_;
    std::shared_ptr<nn::Linear> head_;
};

/// Token and position embeddings -> 2 pre-norm TransformerEncoderLayers with a causal mask ->
/// LayerNorm -> Linear(d_model, 27).
class CharTransformer : public CharModel {
public:
    CharTransformer(std::int64_t context, std::int64_t d_model = 64, std::int64_t heads = 4,
                    std::int64_t layers = 2)
        : CharModel("CharTransformer"), context_(context) {
        tok_ = register_module(
            "tok", std::make_shared<nn::Embedding>(nn::EmbeddingOptions(kCharVocabSize, d_model)));
        pos_ = register_module(
            "pos", std::make_shared<nn::Embedding>(nn::EmbeddingOptions(context, d_model)));
        for (std::int64_t l = 0; l < layers; ++l) {
            blocks_.push_back(register_module("block" + std::to_string(l),
                                              std::make_shared<nn::TransformerEncoderLayer>(
                                                  nn::TransformerEncoderLayerOptions(d_model, heads)
                                                      .dim_feedforward(4 * d_model)
                                                      .dropout(0.0)
                                                      .activation("gelu")
                                                      .batch_first(true)
                                                      .norm_first(true))));
        }
        norm_ = register_module("norm", std::make_shared<nn::LayerNorm>(nn::LayerNormOptions(
                                            {static_cast<std::size_t>(d_model)})));
        head_ = register_module("head", std::make_shared<nn::Linear>(d_model, kCharVocabSize));
    }
    Tensor logits(const Tensor& tokens) override {
        const std::int64_t t = static_cast<std::int64_t>(tokens.shape()[1]);
        std::vector<std::int64_t> positions(static_cast<std::size_t>(t));
        for (std::int64_t i = 0; i < t; ++i) positions[static_cast<std::size_t>(i)] = i;
        Tensor h = tok_->forward(tokens) + pos_->forward(tensor(positions, Shape{size_t(t)}));
        for (const auto& block : blocks_) h = block->forward(h, {}, {}, /*is_causal=*/true);
        return head_->forward(norm_->forward(h));
    }
    std::int64_t context() const { return context_; }

private:
    std::int64_t context_;
    std::shared_ptr<nn::Embedding> tok_, pos_;
    std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> blocks_;
    std::shared_ptr<nn::LayerNorm> norm_;
    std::shared_ptr<nn::Linear> head_;
};

/// Rows [begin, end) of the windows in `order` as (tokens (n, T), flat indices of the real
/// targets, their target values).
struct CharBatch {
    Tensor tokens, keep, targets;
    std::size_t predictions = 0;
};

inline CharBatch char_batch(const CharWindows& w, const std::vector<std::size_t>& order,
                            std::size_t begin, std::size_t end) {
    const std::size_t n = end - begin, t = w.context;
    std::vector<std::int64_t> x(n * t), keep, y;
    for (std::size_t r = 0; r < n; ++r) {
        const std::size_t row = order[begin + r];
        for (std::size_t j = 0; j < t; ++j) {
            x[r * t + j] = w.x[row * t + j];
            const std::int64_t target = w.y[row * t + j];
            if (target >= 0) {
                keep.push_back(static_cast<std::int64_t>(r * t + j));
                y.push_back(target);
            }
        }
    }
    CharBatch b;
    b.predictions = y.size();
    b.tokens = tensor(x, Shape{n, t});
    b.keep = tensor(keep, Shape{keep.size()});
    b.targets = tensor(y, Shape{y.size()});
    return b;
}

/// Mean cross-entropy over the batch's real targets: logits (n, T, 27) flattened to (n T, 27),
/// the padded positions dropped with index_select.
inline Tensor char_loss(CharModel& model, const CharBatch& b) {
    const Tensor logits = model.logits(b.tokens);
    const Tensor flat = reshape(logits, {-1, kCharVocab});
    return nn::cross_entropy(index_select(flat, 0, b.keep), b.targets);
}

/// Nats per character over every real target of `w`, without the graph, in eval mode.
inline double char_eval(CharModel& model, const CharWindows& w, std::size_t batch = 512) {
    NoGradGuard no_grad;
    model.eval();
    std::vector<std::size_t> order(w.rows);
    for (std::size_t i = 0; i < w.rows; ++i) order[i] = i;
    double total = 0;
    for (std::size_t b = 0; b < w.rows; b += batch) {
        const CharBatch cb = char_batch(w, order, b, std::min(w.rows, b + batch));
        total += char_loss(model, cb).item() * static_cast<double>(cb.predictions);
    }
    model.train();
    return total / static_cast<double>(w.targets);
}

/// `count` words sampled from the model: start from '.', draw each next token from the softmax
/// of the last position's logits with a seeded generator, stop at '.' (or 40 characters). The
/// window restarts every `context` inputs, as in training.
inline std::vector<std::string> char_sample(CharModel& model, std::size_t context,
                                            std::size_t count, std::uint64_t seed) {
    NoGradGuard no_grad;
    model.eval();
    std::mt19937_64 g(seed);
    std::vector<std::string> words;
    for (std::size_t k = 0; k < count; ++k) {
        std::vector<std::int64_t> seq{kCharBoundary};
        std::string word;
        while (word.size() < 40) {
            const std::size_t start = (seq.size() - 1) / context * context;
            std::vector<std::int64_t> window(seq.begin() + static_cast<std::ptrdiff_t>(start),
                                             seq.end());
            const Tensor logits = model.logits(tensor(window, Shape{1, window.size()}));
            const Tensor p = softmax(
                select(select(logits, 0, 0), 0, static_cast<std::int64_t>(window.size()) - 1));
            const std::vector<double> probs = to(p, f64).to_vector();
            double u = char_lm_uniform(g), acc = 0;
            std::int64_t next = kCharVocab - 1;
            for (std::int64_t i = 0; i < kCharVocab; ++i) {
                acc += probs[static_cast<std::size_t>(i)];
                if (u < acc) {
                    next = i;
                    break;
                }
            }
            if (next == kCharBoundary) break;
            word.push_back(token_char(next));
            seq.push_back(next);
        }
        words.push_back(word);
    }
    model.train();
    return words;
}

/// Trains `model` with Adam for opts.epochs over the train windows in a seeded order per epoch,
/// printing the dev loss after each epoch.
inline CharLmScore train_char_model(const std::string& name, CharModel& model,
                                    const CharWindows& train, const CharWindows& dev,
                                    const CharLmOptions& opts, std::ostream& out) {
    CharLmScore score;
    score.model = name;
    for (const Tensor& p : model.parameters()) score.parameters += p.numel();
    nn::optim::Adam adam(model.parameters(), nn::optim::AdamOptions(opts.lr));
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::size_t> order(train.rows);
    for (std::size_t e = 0; e < opts.epochs; ++e) {
        for (std::size_t i = 0; i < train.rows; ++i) order[i] = i;
        char_lm_shuffle(order, opts.seed * 1000 + e);
        double sum = 0;
        std::size_t steps = 0;
        for (std::size_t b = 0; b < train.rows; b += opts.batch_size) {
            const CharBatch cb =
                char_batch(train, order, b, std::min(train.rows, b + opts.batch_size));
            adam.zero_grad();
            const Tensor loss = char_loss(model, cb);
            loss.backward();
            adam.step();
            sum += loss.item();
            ++steps;
        }
        const double d = char_eval(model, dev);
        score.epoch_dev_loss.push_back(d);
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        out << "  " << name << " epoch " << (e + 1) << "/" << opts.epochs << ": train loss "
            << std::fixed << std::setprecision(4) << sum / static_cast<double>(steps)
            << ", dev loss " << d << " nats/char (" << std::setprecision(1) << secs << " s)"
            << std::endl
            << std::defaultfloat << std::setprecision(6);
    }
    score.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    score.dev_loss =
        score.epoch_dev_loss.empty() ? char_eval(model, dev) : score.epoch_dev_loss.back();
    score.samples = char_sample(model, opts.context, opts.samples, opts.seed + 7);
    return score;
}

/// The whole run: data, bigram, the chosen models, samples.
inline CharLmResult run_char_lm(const CharLmOptions& opts = CharLmOptions()) {
    std::ostream& out = opts.out != nullptr ? *opts.out : std::cout;
    if (opts.model != "lstm" && opts.model != "transformer" && opts.model != "both") {
        throw std::invalid_argument("char_lm: model must be lstm, transformer or both (got " +
                                    opts.model + ")");
    }
    CharLmResult r;
    auto words = load_words(opts.words_path);
    r.words = words.size();
    auto [train, dev] = split_words(std::move(words), opts.seed);
    if (opts.train_limit != 0 && opts.train_limit < train.size()) train.resize(opts.train_limit);
    if (opts.dev_limit != 0 && opts.dev_limit < dev.size()) dev.resize(opts.dev_limit);
    r.train_words = train.size();
    r.dev_words = dev.size();
    const CharWindows tw = make_windows(train, opts.context), dw = make_windows(dev, opts.context);
    r.dev_chars = dw.targets;
    r.bigram_dev_loss = bigram_dev_loss(train, dev);
    out << "words: " << r.words << " (a-z only, from " << opts.words_path << "), train "
        << r.train_words << ", dev " << r.dev_words << " (" << r.dev_chars
        << " predicted characters)\n"
        << "bigram (counted, add-one): dev loss " << std::fixed << std::setprecision(4)
        << r.bigram_dev_loss << " nats/char\n"
        << std::defaultfloat << std::setprecision(6);
    auto run = [&](const std::string& name, CharModel& model) {
        out << name << " (" <<
            [&] {
                std::size_t n = 0;
                for (const Tensor& p : model.parameters()) n += p.numel();
                return n;
            }()
            << " parameters), " << opts.epochs << " epochs of " << tw.rows << " windows, batch "
            << opts.batch_size << ":\n";
        CharLmScore s = train_char_model(name, model, tw, dw, opts, out);
        out << "  " << name << ": dev loss " << std::fixed << std::setprecision(4) << s.dev_loss
            << " nats/char vs bigram " << r.bigram_dev_loss << " (" << std::showpos
            << s.dev_loss - r.bigram_dev_loss << std::noshowpos << ")\n"
            << std::defaultfloat << std::setprecision(6) << "  samples:";
        for (const std::string& w : s.samples) out << " " << w;
        out << "\n";
        r.models.push_back(std::move(s));
    };
    if (opts.model == "lstm" || opts.model == "both") {
        nn::manual_seed(opts.seed);
        CharLstm lstm;
        run("lstm", lstm);
    }
    if (opts.model == "transformer" || opts.model == "both") {
        nn::manual_seed(opts.seed);
        CharTransformer tf(static_cast<std::int64_t>(opts.context));
        run("transformer", tf);
    }
    return r;
}

}  // namespace xgrad::examples
