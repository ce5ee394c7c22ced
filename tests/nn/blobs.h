#pragma once
// Test data for training: `classes` Gaussian blobs in `dim` dimensions, a seeded function of
// its arguments alone (the engine's platform-independent normal()).

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/data/dataset.h"
#include "nn/module.h"

namespace xgrad::testing {

/// `n` rows of features (n, dim) and labels (n) in 0..classes-1: row i belongs to class
/// i % classes, drawn around that class's centre (drawn from `seed` with spread 2) with noise 1
/// (drawn from `noise_seed`: a test set is another noise seed with the same centres).
inline data::Dataset blobs(std::size_t n, std::size_t dim, std::size_t classes, std::uint64_t seed,
                           std::uint64_t noise_seed = 1000, DType dtype = f32) {
    const std::vector<double> centres = normal({classes, dim}, 0, 2, seed, f64).to_vector();
    const std::vector<double> noise = normal({n, dim}, 0, 1, noise_seed, f64).to_vector();
    std::vector<double> f(n * dim), l(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % classes;
        l[i] = static_cast<double>(c);
        for (std::size_t k = 0; k < dim; ++k)
            f[i * dim + k] = centres[c * dim + k] + noise[i * dim + k];
    }
    return data::Dataset(Array::from_values(dtype, {n, dim}, f), Array::from_values(dtype, {n}, l));
}

/// The raw bytes of every named tensor, concatenated with its name: equal iff every name,
/// shape, dtype and bit is equal.
inline std::string bytes_of(const std::vector<nn::NamedTensor>& named) {
    std::string out;
    for (const auto& [name, t] : named) {
        out += name + " " + t.shape().str() + " " + dtype_name(t.dtype()) + ":";
        out.append(static_cast<const char*>(t.value().raw()), t.value().nbytes());
    }
    return out;
}

}  // namespace xgrad::testing
