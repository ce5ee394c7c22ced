#include "nn/checkpoint.h"

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nn/detail/checkpoint_io.h"
#include "nn/serialize.h"

namespace xgrad::nn {

namespace {

const std::string kModel = "model.";
const std::string kOptimizer = "optimizer";  // the marker record; state entries add ".<name>"
const std::string kExtra = "_extra_state";

std::string extra_state_name(const std::string& path) {
    return kModel + (path.empty() ? kExtra : path + "." + kExtra);
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

bool is_optimizer_record(const std::string& name) {
    return name == kOptimizer || starts_with(name, kOptimizer + ".");
}

// The parameter part of a state entry "<parameter>.<buffer>" (buffer names have no dot).
std::string parameter_of(const std::string& entry) { return entry.substr(0, entry.rfind('.')); }

}  // namespace

io::NamedTensors detail::checkpoint_records(const Module& model,
                                            const optim::Optimizer* optimizer) {
    io::NamedTensors records;
    for (auto& [name, t] : model.named_parameters()) records.emplace_back(kModel + name, t);
    for (auto& [name, t] : model.named_buffers()) records.emplace_back(kModel + name, t);
    for (auto& [path, m] : model.named_modules()) {
        Tensor extra = m->get_extra_state();
        if (extra.defined()) records.emplace_back(extra_state_name(path), std::move(extra));
    }
    if (optimizer != nullptr) {
        records.emplace_back(kOptimizer,
                             scalar(static_cast<double>(optimizer->params().size()), f64));
        for (auto& [name, t] : optimizer->state()) {
            records.emplace_back(kOptimizer + "." + name, t);
        }
    }
    return records;
}

void save_checkpoint(const std::string& path, const Module& model,
                     const optim::Optimizer* optimizer) {
    io::save(path, detail::checkpoint_records(model, optimizer));
}

void detail::restore_checkpoint(const io::NamedTensors& file, const std::string& context,
                                Module& model, optim::Optimizer* optimizer,
                                const io::NamedTensors& extra) {
    // The targets: the model's parameters, buffers and extra states, then the optimizer buffers
    // of every parameter the file holds state for (all of them, so that a partial set shows as
    // missing entries), then the caller's extra records.
    io::NamedTensors targets;
    for (auto& [name, t] : model.named_parameters()) targets.emplace_back(kModel + name, t);
    for (auto& [name, t] : model.named_buffers()) targets.emplace_back(kModel + name, t);
    std::vector<std::pair<Module*, Tensor>> extra_states;  // read into copies, then handed over
    for (auto& [path, m] : model.named_modules()) {
        const Tensor current = m->get_extra_state();
        if (!current.defined()) continue;
        Tensor target(current.value());
        targets.emplace_back(extra_state_name(path), target);
        extra_states.emplace_back(m, target);
    }
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
    for (const auto& e : extra) targets.push_back(e);

    io::NamedTensors stored;
    for (const auto& record : file) {
        if (record.first == kOptimizer) continue;  // checked above
        if (optimizer == nullptr && is_optimizer_record(record.first)) continue;
        if (extra.empty() && starts_with(record.first, kFit)) continue;
        stored.push_back(record);
    }
    io::assign(stored, targets, context);
    // Each target was taken from the module's own get_extra_state(), so it fits.
    for (auto& [m, t] : extra_states) m->set_extra_state(t);
    // The entries are the optimizer's own layout, complete per parameter: this cannot refuse.
    if (optimizer != nullptr) optimizer->load_state(state);
}

void load_checkpoint(const std::string& path, Module& model, optim::Optimizer* optimizer) {
    detail::restore_checkpoint(io::load(path), "load_checkpoint: " + path, model, optimizer, {});
}

}  // namespace xgrad::nn
