#include "autograd/node_info.h"

#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "autograd/node.h"

namespace xgrad {

namespace detail {

namespace {

struct NodeInfo {
    std::string name;
    SourceLocation location;
};

struct InfoTable {
    std::mutex mutex;
    std::unordered_map<const Node*, NodeInfo> map;
};

InfoTable& table() {
    // NOTE: never destroyed: nodes held by static tensors die after static destructors run.
    static InfoTable* t = new InfoTable;
    return *t;
}

}  // namespace

void set_node_name(Node* node, std::string name) {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map[node].name = std::move(name);
    node->mark_annotated();
}

std::string node_name(const Node* node) {
    if (!node->annotated()) return {};
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    auto it = t.map.find(node);
    return it == t.map.end() ? std::string() : it->second.name;
}

void set_node_location(Node* node, SourceLocation location) {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map[node].location = location;
    node->mark_annotated();
}

SourceLocation node_location(const Node* node) {
    if (!node->annotated()) return {};
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    auto it = t.map.find(node);
    return it == t.map.end() ? SourceLocation{} : it->second.location;
}

void forget_node_info(const Node* node) noexcept {
    InfoTable& t = table();
    std::lock_guard<std::mutex> lock(t.mutex);
    t.map.erase(node);
}

}  // namespace detail

Tensor& Tensor::set_name(std::string name) {
    if (node_ == nullptr) throw std::logic_error("set_name: undefined tensor");
    detail::set_node_name(node_, std::move(name));
    return *this;
}

std::string Tensor::name() const {
    if (node_ == nullptr) throw std::logic_error("name: undefined tensor");
    return detail::node_name(node_);
}

}  // namespace xgrad
