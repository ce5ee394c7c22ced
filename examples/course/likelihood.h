#pragma once
// Note 001, "Measuring Accuracy" and "Gradient Ascent / Descent": the accuracy, the softmax, the
// likelihood and the log-likelihood of the notes, computed by xgrad on the notes' own small
// examples. Used by the walkthrough.

#include <cmath>
#include <cstddef>
#include <vector>

#include "autograd/autograd.h"
#include "examples/course/report.h"

namespace xgrad::examples {

/// Accuracy and likelihood of a binary perceptron's weights, and of a multiclass example.
struct AccuracyAndLikelihood {
    std::vector<double> scores;         ///< w.f(x_i), bias feature first
    double accuracy;                    ///< score 0 counts as positive (the perceptron's rule)
    double accuracy_sgn;                ///< sgn as written: sgn(0) = 0 matches no label
    std::vector<double> probabilities;  ///< P(y_i | x_i) = sigma(y_i w.f(x_i))
    double likelihood, log_likelihood;
    std::vector<double> gradient;  ///< d ll / dw, from the engine
    double alpha;                  ///< the ascent step size
    std::vector<double> ascended;  ///< w + alpha d ll / dw
    double log_likelihood_after;
    std::vector<double> softmax;        ///< of the multiclass scores W f(x)
    double log_p_true;                  ///< log P(true class | x)
    std::vector<double> softmax_after;  ///< with the rows after the perceptron update
    double log_p_true_after;
};

/// Binary: the points and +-1 labels with weights `w` (bias weight first). Multiclass: feature
/// vector `fx`, the weight rows before and after the perceptron update, and the true class.
inline AccuracyAndLikelihood note001_likelihood(
    Report& r, const std::vector<std::vector<double>>& points, const std::vector<int>& labels,
    const std::vector<double>& w, const std::vector<double>& fx,
    const std::vector<std::vector<double>>& rows_before,
    const std::vector<std::vector<double>>& rows_after, std::size_t true_class) {
    const std::size_t m = points.size(), d = w.size();
    std::vector<double> f, y(labels.begin(), labels.end());
    for (const std::vector<double>& p : points) {
        f.push_back(1);  // the bias feature
        f.insert(f.end(), p.begin(), p.end());
    }
    const Tensor features = tensor(f, Shape{m, d}, f64), ys = tensor(y, f64);
    AccuracyAndLikelihood a{};

    // ll(w) = sum_i log P(y_i | x_i; w). Softmax over the two classes with scores (0, w.f(x))
    // gives P(+1 | x) = sigma(w.f(x)) and P(-1 | x) = sigma(-w.f(x)), so P(y | x) = sigma(y w.f).
    auto log_likelihood = [&](const Tensor& weights, Tensor* scores, Tensor* probs) {
        const Tensor s = matmul(features, weights);  // (m, d)·(d) -> (m)
        const Tensor p = sigmoid(ys * s);
        if (scores) *scores = s;
        if (probs) *probs = p;
        return sum(log(p));
    };
    Tensor wt = tensor(w, f64, /*requires_grad=*/true), scores, probs;
    const Tensor ll = log_likelihood(wt, &scores, &probs);
    ll.backward();
    a.scores = scores.to_vector();
    a.probabilities = probs.to_vector();
    a.log_likelihood = ll.item();
    a.likelihood = std::exp(a.log_likelihood);
    a.gradient = wt.grad().to_vector();
    int right = 0, right_sgn = 0;
    for (std::size_t i = 0; i < m; ++i) {
        right += (a.scores[i] >= 0 ? 1 : -1) == labels[i];
        right_sgn += (a.scores[i] > 0) - (a.scores[i] < 0) == labels[i];
    }
    a.accuracy = right / static_cast<double>(m);
    a.accuracy_sgn = right_sgn / static_cast<double>(m);
    a.alpha = 0.05;
    const Tensor stepped = wt.detach() + a.alpha * wt.grad();  // gradient ascent: w + alpha grad
    a.ascended = stepped.to_vector();
    a.log_likelihood_after = log_likelihood(stepped, nullptr, nullptr).item();

    r << "The weights after note 001's single pass, w = " << vec(w) << ", on its training set:\n"
      << "  scores w.f(x_i) = " << vec(a.scores) << ", labels " << vec(y) << "\n"
      << "  l_acc(w) = 1/m sum_i [sgn(w.f(x_i)) == y_i] = " << num(a.accuracy_sgn)
      << " with sgn(0) = 0 (matches no label),\n"
      << "             " << num(a.accuracy)
      << " with the perceptron's rule that a score of 0 is positive (point 2 lies on the "
         "boundary)\n";
    r << "Softmax over the two classes with scores (0, w.f(x)): P(y | x) = sigma(y w.f(x)):\n"
      << "  P(y_i | x_i) = " << vec(a.probabilities) << "\n"
      << "  likelihood l(w) = prod_i P(y_i | x_i) = " << num(a.likelihood)
      << ", log-likelihood ll(w) = sum_i log P(y_i | x_i) = " << num(a.log_likelihood) << "\n"
      << "  engine: d ll/dw = " << vec(a.gradient) << "; one gradient-ascent step w <- w + alpha "
      << "d ll/dw (alpha = " << num(a.alpha) << ")\n  gives w = " << vec(a.ascended)
      << " and ll = " << num(a.log_likelihood_after)
      << (a.log_likelihood_after > a.log_likelihood ? " (higher)"
                                                    : " (lower: the step is too long)")
      << "\n";
    r.notes_mean("Gradient Ascent / Descent",
                 "\"If rather than minimizing we instead wanted to minimize a function f\"",
                 "rather than maximizing");

    // Multiclass: sigma(z)_j = e^z_j / sum_k e^z_k over the scores W f(x).
    const Tensor x = tensor(fx, f64);
    auto class_probs = [&](const std::vector<std::vector<double>>& rows, double* log_p) {
        std::vector<double> flat;
        for (const std::vector<double>& row : rows) flat.insert(flat.end(), row.begin(), row.end());
        const Tensor s = matmul(tensor(flat, Shape{rows.size(), fx.size()}, f64), x);
        *log_p = log_softmax(s).to_vector()[true_class];
        return softmax(s).to_vector();
    };
    a.softmax = class_probs(rows_before, &a.log_p_true);
    a.softmax_after = class_probs(rows_after, &a.log_p_true_after);
    r << "The multiclass example: softmax(W f(x)) = softmax(11, 13, 8) = " << vec(a.softmax)
      << ";\n  true class " << true_class << ": log P(" << true_class
      << " | x) = " << num(a.log_p_true)
      << "; after the perceptron's update P = " << vec(a.softmax_after) << ", log P(" << true_class
      << " | x) = " << num(a.log_p_true_after) << "\n";
    return a;
}

}  // namespace xgrad::examples
