#include "autograd/observer.h"

#include <algorithm>

#include "autograd/node.h"

namespace xgrad {

namespace {
thread_local ObserverList t_observers;
}

std::atomic<int> ObserverList::g_threads_observed_{0};

ObserverGuard::ObserverGuard(GraphObserver& observer) : observer_(&observer) {
    auto& l = t_observers.list;
    l.push_back(observer_);
    if (l.size() == 1) ObserverList::g_threads_observed_.fetch_add(1, std::memory_order_relaxed);
}

ObserverGuard::~ObserverGuard() {
    auto& l = t_observers.list;
    auto it = std::find(l.rbegin(), l.rend(), observer_);
    if (it == l.rend()) return;
    l.erase(std::next(it).base());
    if (l.empty()) ObserverList::g_threads_observed_.fetch_sub(1, std::memory_order_relaxed);
}

ObserverList* ObserverList::lookup() { return t_observers.list.empty() ? nullptr : &t_observers; }

bool ObserverList::wants_leaf_events() const {
    for (GraphObserver* o : list) {
        if (o->wants_leaf_events()) return true;
    }
    return false;
}

// Each event iterates over a copy: an observer may register or unregister another.
void ObserverList::forward(const OpDef& op, const Array& value, const Tensor* const* inputs,
                           std::size_t n) {
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) o->on_forward(op, value, inputs, n);
}
void ObserverList::recorded(Node* node) {
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) o->on_record(*node);
}
void ObserverList::backward_begin(Node* const* roots, const Array* const* seeds, std::size_t n,
                                  bool create_graph) {
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) o->on_backward_begin(roots, seeds, n, create_graph);
}
void ObserverList::backward_node(const Node& node, const Array& grad, const Array* const* grads,
                                 std::size_t n) {
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) o->on_backward_node(node, grad, grads, n);
}
void ObserverList::leaf_ready(Node* leaf) {
    leaf->retain();
    const Tensor t = Tensor::adopt(leaf);
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) {
        if (o->wants_leaf_events()) o->on_leaf_ready(t);
    }
}
void ObserverList::backward_end() {
    const std::vector<GraphObserver*> l = list;
    for (GraphObserver* o : l) o->on_backward_end();
}

}  // namespace xgrad
