#pragma once
// See the graph: Graphviz DOT export of a live autograd graph, rendered with Debian's graphviz.
//
// A picture with gradients needs three steps, because backward frees the graph and keeps only
// leaf gradients by default:
//   retain_grads(loss);                      // every interior node keeps its gradient
//   loss.backward(/*retain_graph=*/true);    // the edges survive the backward
//   save_graph(loss, "loss.svg");            // values in green, gradients in red

#include <cstddef>
#include <string>

#include "autograd/tensor.h"

namespace xgrad {

/// What to_dot draws.
struct DotOptions {
    /// Nodes drawn, breadth-first from the root; the rest collapse into one "... N more nodes"
    /// placeholder wired to the drawn nodes that consume them.
    std::size_t max_nodes = 200;
    /// Tensors with more elements show "mean, min, max" (and NaN/Inf counts) instead of values.
    std::size_t max_values = 6;
    /// Significant digits of the numbers shown.
    int precision = 4;
    bool show_values = true;  // the forward value of each node, in green
    bool show_grads = true;   // the gradient, in red, where one is kept
    bool show_shapes = true;  // shape and dtype
    /// A caption above the graph (empty: none).
    std::string title;
};

/// The graph from `root` back to its leaves as Graphviz DOT text, inputs pointing to the ops
/// that consume them (left to right). Each node shows its name (Tensor::set_name) and op, shape
/// and dtype, value in green and gradient in red when one is kept (leaves after backward,
/// interior nodes after retain_grad or retain_grads). Parameters (leaves that require grad) are
/// blue boxes, constants grey dashed boxes, the root has a double border. Iterative: a 10^6-node
/// graph costs one hash-set entry per node and no recursion. Reads the graph without locks: not
/// while another thread backpropagates through it. Throws std::invalid_argument on an undefined
/// tensor.
std::string to_dot(const Tensor& root, const DotOptions& options = {});

/// Marks every interior node of the graph of `root` (root included) to keep its gradient
/// through the next backward, as retain_grad() does for one tensor.
void retain_grads(const Tensor& root);

/// Whether Graphviz's `dot` program is on the PATH.
bool graphviz_available();

/// Renders DOT text to `path` with Graphviz's `dot`; the format follows the extension
/// (.svg, .png or .pdf). Throws std::invalid_argument for another extension, std::runtime_error
/// when `dot` is not installed (with the apt-get line) or fails.
void render_dot(const std::string& dot, const std::string& path);

/// to_dot(root, options) written to `path`: the DOT text itself for a .dot or .gv path,
/// otherwise rendered as render_dot does.
void save_graph(const Tensor& root, const std::string& path, const DotOptions& options = {});

/// `s` with &, <, > and " escaped: for Graphviz HTML labels and SVG text (the DOT export and
/// xgrad::data's SVG plots).
std::string escape_xml(const std::string& s);

}  // namespace xgrad
