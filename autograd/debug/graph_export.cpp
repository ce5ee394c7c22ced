// Graphviz DOT export: a breadth-first walk from the root (no recursion), HTML-like labels with
// the value in green and the gradient in red, and rendering through the `dot` program.

#include "autograd/debug/graph_export.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/debug/format.h"

extern char** environ;

namespace xgrad {

namespace {

constexpr const char* kGreen = "darkgreen";
constexpr const char* kRed = "red";

const Node* checked_root(const Tensor& root, const char* what) {
    if (!root.defined()) throw std::invalid_argument(std::string(what) + ": undefined tensor");
    return root.node();
}

std::string label(const Node* n, const DotOptions& o) {
    const std::string name = detail::node_name(n);
    const bool leaf = n->is_leaf();
    std::string title;
    if (leaf) {
        title = name.empty() ? (n->requires_grad() ? "parameter" : "constant") : name;
    } else {
        std::string op = n->op();
        detail::FoldedScalar f;  // `x * 2.0`: show the scalar the node holds ("mul (* 2)")
        if (detail::folded_scalar(*n, f)) {
            op += std::string(" (") + detail::folded_expression(f, "·", o.precision) + ")";
        }
        title = name.empty() ? op : name + " (" + op + ")";
    }
    std::string s = "<<b>" + escape_xml(title) + "</b>";
    if (o.show_shapes) {
        std::string kind = leaf ? (n->requires_grad() ? "parameter " : "constant ") : "";
        if (!leaf && !name.empty()) kind.clear();
        s += "<br/><font point-size=\"9\" color=\"gray35\">" + kind + n->value().shape().str() +
             " " + dtype_name(n->value().dtype()) + "</font>";
    }
    if (o.show_values) {
        s += "<br/><font color=\"" + std::string(kGreen) + "\">" +
             escape_xml(detail::format_array(n->value(), o.max_values, o.precision)) + "</font>";
    }
    // A kept gradient: leaves after backward, interior nodes marked retain_grad.
    const bool kept = leaf || n->retains_grad();
    if (o.show_grads && kept && n->has_grad()) {
        s += "<br/><font color=\"" + std::string(kRed) + "\">grad " +
             escape_xml(detail::format_array(n->grad_value(), o.max_values, o.precision)) +
             "</font>";
    }
    if (n->released()) {
        s += "<br/><font point-size=\"9\" color=\"gray35\"><i>inputs freed by backward; "
             "use backward(true)</i></font>";
    }
    return s + ">";
}

std::string attributes(const Node* n, bool is_root) {
    std::string a;
    if (!n->is_leaf()) {
        a = "shape=ellipse";
    } else if (n->requires_grad()) {
        a = "shape=box, style=\"filled,rounded\", fillcolor=\"#dbe9ff\"";
    } else {
        a = "shape=box, style=\"dashed,rounded\", color=gray50";
    }
    if (is_root) a += ", peripheries=2";
    return a;
}

}  // namespace

std::string to_dot(const Tensor& root_tensor, const DotOptions& options) {
    const Node* root = checked_root(root_tensor, "to_dot");
    // Breadth-first from the root: the first max_nodes nodes discovered are drawn (ids below
    // max_nodes); the walk goes on, without drawing, only to count the rest.
    std::unordered_map<const Node*, std::size_t> id;
    std::vector<const Node*> order;
    std::deque<const Node*> queue{root};
    id.emplace(root, 0);
    order.push_back(root);
    while (!queue.empty()) {
        const Node* n = queue.front();
        queue.pop_front();
        Node* const* in = n->inputs();
        for (std::uint32_t i = 0; i < n->num_inputs(); ++i) {
            if (id.emplace(in[i], order.size()).second) {
                order.push_back(in[i]);
                queue.push_back(in[i]);
            }
        }
    }
    const std::size_t total = order.size();
    const std::size_t drawn = std::min(total, std::max<std::size_t>(options.max_nodes, 1));

    std::ostringstream os;
    os << "digraph xgrad {\n"
       << "  rankdir=LR;\n"
       << "  node [fontname=\"Helvetica\", fontsize=11];\n"
       << "  edge [color=gray40, arrowsize=0.7];\n";
    if (!options.title.empty()) {
        os << "  labelloc=t;\n  fontname=\"Helvetica\";\n  label=<<b>" << escape_xml(options.title)
           << "</b>>;\n";
    }
    for (std::size_t k = 0; k < drawn; ++k) {
        const Node* n = order[k];
        os << "  n" << k << " [" << attributes(n, n == root) << ", label=" << label(n, options)
           << "];\n";
    }
    for (std::size_t k = 0; k < drawn; ++k) {
        const Node* n = order[k];
        Node* const* in = n->inputs();
        bool linked_more = false;
        for (std::uint32_t i = 0; i < n->num_inputs(); ++i) {
            const std::size_t from = id.at(in[i]);
            if (from < drawn) {
                os << "  n" << from << " -> n" << k << ";\n";
            } else if (!linked_more) {
                os << "  more -> n" << k << " [style=dashed];\n";
                linked_more = true;
            }
        }
    }
    if (total > drawn) {
        os << "  more [shape=note, style=dashed, label=\"... " << (total - drawn)
           << " more nodes (max_nodes = " << options.max_nodes << ")\"];\n";
    }
    os << "}\n";
    return os.str();
}

void retain_grads(const Tensor& root_tensor) {
    const Node* root = checked_root(root_tensor, "retain_grads");
    std::unordered_set<const Node*> seen{root};
    std::vector<Node*> stack{const_cast<Node*>(root)};
    while (!stack.empty()) {
        Node* n = stack.back();
        stack.pop_back();
        if (!n->is_leaf() && n->requires_grad()) n->mark_retain_grad();
        Node* const* in = n->inputs();
        for (std::uint32_t i = 0; i < n->num_inputs(); ++i) {
            if (seen.insert(in[i]).second) stack.push_back(in[i]);
        }
    }
}

bool graphviz_available() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        std::string dir = dirs.substr(start, end - start);
        if (dir.empty()) dir = ".";
        if (::access((dir + "/dot").c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

void render_dot(const std::string& dot, const std::string& path) {
    const std::size_t slash = path.find_last_of('/'), dotpos = path.find_last_of('.');
    const std::string ext =
        dotpos == std::string::npos || (slash != std::string::npos && dotpos < slash)
            ? ""
            : path.substr(dotpos + 1);
    if (ext != "svg" && ext != "png" && ext != "pdf") {
        throw std::invalid_argument("render_dot: unknown image format (got '" + path +
                                    "', expected a .svg, .png or .pdf path)");
    }
    if (!graphviz_available()) {
        throw std::runtime_error(
            "render_dot: Graphviz's 'dot' program is not on the PATH (install it with "
            "'sudo apt-get install graphviz', or save the DOT text from to_dot() and render it "
            "elsewhere)");
    }
    // The DOT text goes through a temporary file; `dot` is run directly (no shell), so no path
    // is ever interpreted by a shell.
    char tmp[] = "/tmp/xgrad-graph-XXXXXX";
    const int fd = ::mkstemp(tmp);
    if (fd < 0)
        throw std::runtime_error(std::string("render_dot: mkstemp: ") + std::strerror(errno));
    const bool wrote = ::write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
    ::close(fd);
    if (!wrote) {
        ::unlink(tmp);
        throw std::runtime_error("render_dot: could not write the temporary DOT file " +
                                 std::string(tmp));
    }
    const std::string format = "-T" + ext;
    std::vector<std::string> args = {"dot", format, "-o", path, tmp};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
    int status = 0;
    if (rc == 0) {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    ::unlink(tmp);
    if (rc != 0) {
        throw std::runtime_error(std::string("render_dot: could not run 'dot': ") +
                                 std::strerror(rc));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(
            "render_dot: 'dot " + format + " -o " + path + "' failed (exit status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
    }
}

void save_graph(const Tensor& root, const std::string& path, const DotOptions& options) {
    const std::string dot = to_dot(root, options);
    const auto ends_with = [&path](const char* e) {
        const std::size_t n = std::strlen(e);
        return path.size() >= n && path.compare(path.size() - n, n, e) == 0;
    };
    if (ends_with(".dot") || ends_with(".gv")) {
        std::ofstream out(path);
        out << dot;
        if (!out) throw std::runtime_error("save_graph: could not write " + path);
        return;
    }
    render_dot(dot, path);
}

}  // namespace xgrad
