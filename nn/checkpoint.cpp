#include "nn/checkpoint.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nn/serialize.h"

namespace xgrad::nn {

namespace {

const std::string kModel = "model.";
const std::string kOptimizer = "optimizer";  // the marker record; state entries add ".<name>"

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

bool is_optimizer_record(const std::string& name) {
    return name == kOptimizer || starts_with(name, kOptimizer + ".");
}

// The parameter part of a state entry "<parameter>.<buffer>" (buffer names have no dot).
std::string parameter_of(const std::string& entry) { return entry.substr(0, entry.rfind('.')); }

}  // namespace

void save_checkpoint(const std::string& path, const Module& model,
                     const optim::Optimizer* optimizer) {
    io::NamedTensors records;
    for (auto& [name, t] : model.named_parameters()) records.emplace_back(kModel + name, t);
    if (optimizer != nullptr) {
        records.emplace_back(kOptimizer,
                             scalar(static_cast<double>(optimizer->params().size()), f64));
        for (auto& [name, t] : optimizer->state()) {
            records.emplace_back(kOptimizer + "." + name, t);
        }
    }
    io::save(path, records);
}

void load_checkpoint(const std::string& path, Module& model, optim::Optimizer* optimizer) {
    const std::string context = "load_checkpoint: " + path;
    const io::NamedTensors file = io::load(path);

    // The targets: the model's parameters, then the optimizer buffers of every parameter the
    // file holds state for (all of them, so that a partial set shows as missing entries).
    io::NamedTensors targets;
    for (auto& [name, t] : model.named_parameters()) targets.emplace_back(kModel + name, t);
    std::vector<NamedTensor> state;
    if (optimizer != nullptr) {
        const Tensor* count = nullptr;
        std::unordered_set<std::string> stateful;  // parameters with an entry in the file
        for (const auto& [name, t] : file) {
            if (name == kOptimizer) count = &t;
            if (starts_with(name, kOptimizer + ".")) {
                stateful.insert(parameter_of(name.substr(kOptimizer.size() + 1)));
            }
        }
        if (count == nullptr) {
            throw std::runtime_error(context +
                                     ": the file holds no optimizer state (it was saved without "
                                     "an optimizer); load the model alone, without an optimizer");
        }
        const std::size_t expected = optimizer->params().size();
        if (count->numel() != 1 || count->item() != static_cast<double>(expected)) {
            std::ostringstream got;
            got << (count->numel() == 1 ? count->item() : std::nan(""));
            throw std::runtime_error(context + ": the file's optimizer state is for " + got.str() +
                                     " parameters, this " + optimizer->name() + " has " +
                                     std::to_string(expected) + "; nothing was changed");
        }
        for (auto& [name, t] : optimizer->state_layout()) {
            if (stateful.count(parameter_of(name)) == 0) continue;
            targets.emplace_back(kOptimizer + "." + name, t);
            state.emplace_back(name, t);
        }
    }

    io::NamedTensors stored;
    for (const auto& record : file) {
        if (record.first == kOptimizer) continue;  // checked above
        if (optimizer == nullptr && is_optimizer_record(record.first)) continue;
        stored.push_back(record);
    }
    io::assign(stored, targets, context);
    // The entries are the optimizer's own layout, complete per parameter: this cannot refuse.
    if (optimizer != nullptr) optimizer->load_state(state);
}

}  // namespace xgrad::nn
