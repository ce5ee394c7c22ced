// Prints a digest of the networks of init_order.h, built both ways, and fails when the two ways
// differ. Built with the project's compiler and, when clang++ is installed, with clang++ too; a
// ctest test compares the two programs' output (tests/nn/init_order_check.cmake).

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "tests/nn/init_order.h"

namespace {

std::uint64_t digest(const std::vector<double>& values) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the bytes of the doubles
    for (double v : values) {
        unsigned char b[sizeof v];
        std::memcpy(b, &v, sizeof v);
        for (unsigned char c : b) h = (h ^ c) * 0x100000001b3ULL;
    }
    return h;
}

}  // namespace

int main() {
    using namespace xgrad::testing;
    const std::uint64_t mlp_args = digest(mlp_from_arguments(1));
    const std::uint64_t mlp_steps = digest(mlp_one_by_one(1));
    const std::uint64_t nested_args = digest(nested_from_arguments(7));
    const std::uint64_t nested_steps = digest(nested_one_by_one(7));
    std::printf(
        "mlp %016llx %016llx\nnested %016llx %016llx\n", static_cast<unsigned long long>(mlp_args),
        static_cast<unsigned long long>(mlp_steps), static_cast<unsigned long long>(nested_args),
        static_cast<unsigned long long>(nested_steps));
    if (mlp_args != mlp_steps || nested_args != nested_steps) {
        std::fprintf(stderr, "init_order: argument-list and one-by-one networks differ\n");
        return 1;
    }
    return 0;
}
