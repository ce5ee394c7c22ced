#pragma once
// Sequential: modules applied one after another, registered as "0", "1", ...

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "nn/module.h"

namespace xgrad::nn {

/// Applies its modules in order: forward(x) = m_k(...m_1(m_0(x))). Children are named by
/// position, so parameters read "0.weight", "2.bias".
///
/// Example (seed 004's 2-2-1 sigmoid net):
///   auto net = std::make_shared<nn::Sequential>(nn::Linear(2, 2), nn::Sigmoid(),
///                                               nn::Linear(2, 1), nn::Sigmoid());
///   Tensor y = net->forward(x);             // x: (N, 2) -> (N, 1)
///   net->at<nn::Linear>(2)->weight();       // the second layer's (2, 1) weight
///
/// Arguments are shared_ptrs to modules, or module values, which are moved into new shared_ptrs.
/// NOTE: a single Sequential value argument is a move, not a nesting; nest with make_shared.
class Sequential : public Module {
public:
    Sequential() : Module("Sequential") {}
    template <class... Ms, class = std::enable_if_t<(sizeof...(Ms) > 0)>>
    explicit Sequential(Ms&&... modules) : Module("Sequential") {
        (push_back(std::forward<Ms>(modules)), ...);
        // NOTE: the arguments were built in an order the compiler chose (g++: right to left),
        // each drawing its seed from nn::manual_seed's stream; dealing the seeds out again in
        // registration order gives the weights of the same layers added one by one, with
        // every compiler. Children held elsewhere too (built earlier) keep theirs.
        deal_default_draws(modules_, /*own_refs=*/2);  // children_ and modules_
    }

    /// Appends a module, named by its position.
    void push_back(std::shared_ptr<Module> module);
    /// Appends a module value (moved into a new shared_ptr).
    template <class M, class = std::enable_if_t<std::is_base_of_v<Module, std::decay_t<M>> &&
                                                !std::is_lvalue_reference_v<M>>>
    void push_back(M&& module) {
        push_back(std::shared_ptr<Module>(std::make_shared<std::decay_t<M>>(std::move(module))));
    }
    template <class M>
    void push_back(std::shared_ptr<M> module) {
        push_back(std::shared_ptr<Module>(std::move(module)));
    }

    /// Applies every module in order. An empty Sequential returns its input; a moved-from one
    /// throws std::logic_error.
    Tensor forward(const Tensor& input) override;

    std::size_t size() const { return modules_.size(); }
    /// The i-th module; throws std::out_of_range.
    const std::shared_ptr<Module>& operator[](std::size_t i) const;
    /// The i-th module as an M; throws std::out_of_range, or std::invalid_argument if it is not
    /// an M.
    template <class M>
    std::shared_ptr<M> at(std::size_t i) const {
        auto m = std::dynamic_pointer_cast<M>((*this)[i]);
        if (!m) {
            throw std::invalid_argument("Sequential: module " + std::to_string(i) + " is a " +
                                        (*this)[i]->name() + ", not the type asked for");
        }
        return m;
    }

private:
    std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace xgrad::nn
