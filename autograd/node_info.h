#pragma once
// The side table of node names and creation sites. Internal.
//
// NOTE: a Node carries neither (memory per scalar node is a measured bar). They live in one
// mutex-protected map keyed by node address; a node with an entry is marked annotated, and
// ~Node erases the entry only then, so unannotated nodes pay one flag test at destruction.
// Core, not a debugging tool: names belong to the graph; the tools only read them.

#include <string>

#include "autograd/call_site.h"

namespace xgrad {
class Node;
}

namespace xgrad::detail {

void set_node_name(Node* node, std::string name);
/// The user's name, or "" when none was given.
std::string node_name(const Node* node);
void set_node_location(Node* node, SourceLocation location);
/// Where the node was created; line 0 when it was not recorded (anomaly mode was off).
SourceLocation node_location(const Node* node);
/// Called by ~Node for annotated nodes.
void forget_node_info(const Node* node) noexcept;

}  // namespace xgrad::detail
