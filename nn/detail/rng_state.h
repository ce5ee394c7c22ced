#pragma once
// Internal to xgrad::nn: random generators as tensors (for checkpoints), and the thread-local
// context of activation checkpointing (nn/activation_checkpoint.h) that random and stateful
// modules consult. Not installed.

#include <cstdint>
#include <random>
#include <vector>

#include "autograd/tensor.h"

namespace xgrad::nn::detail {

/// A mt19937_64 as a float64 tensor of generator_state_size() values: the numbers of its
/// textual form (operator<<), each split into its low and high 32 bits (exact in a double).
/// NOTE: the text form is the standard library's own (libstdc++: the 312 state words and its
/// position, 626 values), so a saved state reads back with the same standard library.
Tensor encode_generator(const std::mt19937_64& gen);
/// The length of encode_generator's tensor (626 with libstdc++).
std::size_t generator_state_size();
/// The generator `encode_generator` encoded. Throws std::invalid_argument naming `op` when
/// `state` is not generator_state_size() float64 integers in [0, 2^32).
std::mt19937_64 decode_generator(const Tensor& state, const char* op);

/// Activation checkpointing's bookkeeping for one checkpointed call, per thread.
///
/// Forward (recording): every generator a module draws from is noted the first time, with its
/// state before the draw, so the recomputation can replay the same numbers.
/// Backward (recomputing): stateful modules see recomputing() true and must not update their
/// running statistics a second time.
class CheckpointContext {
public:
    struct Saved {
        std::mt19937_64* generator;
        std::mt19937_64 state;
    };
    std::vector<Saved> generators;
    bool recomputing = false;
    CheckpointContext* parent = nullptr;  // the enclosing checkpointed call, if nested
};

/// The context of the innermost checkpointed call running on this thread, or nullptr.
CheckpointContext* current_checkpoint();
/// Installs `ctx` as this thread's current context until destroyed (restores the previous one),
/// with the previous one as its parent.
class CheckpointScope {
public:
    explicit CheckpointScope(CheckpointContext* ctx);
    ~CheckpointScope();
    CheckpointScope(const CheckpointScope&) = delete;
    CheckpointScope& operator=(const CheckpointScope&) = delete;

private:
    CheckpointContext* previous_;
};

/// Call before drawing from `gen` in a forward: inside a checkpointed function's first run it
/// records the state in every enclosing checkpointed call (up to one that is recomputing), so
/// each recomputation draws the same numbers.
void note_generator(std::mt19937_64& gen);

/// Whether a checkpointed function is being recomputed on this thread (for any enclosing call).
bool recomputing();

}  // namespace xgrad::nn::detail
