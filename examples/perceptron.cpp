// The perceptron exercises of the course notes, answered by xgrad: note 000's perceptron
// questions (and its "Perceptron -> Neural Nets" part), note 001's weight update, its single
// update pass and its multiclass example. Where the notes' arithmetic differs from the exact
// value, both are printed. (The same sections run inside ./build/examples/walkthrough.)
//
//   ./build/examples/perceptron

#include "examples/course/perceptron.h"

#include <iostream>

int main() {
    using namespace xgrad::examples;
    Report r(std::cout);
    r.begin_note("000", "Perceptrons / Neural Networks");
    r.section("Section 1: Perceptron");
    note000_perceptron(r);
    r.section("Perceptron -> Neural Nets");
    note000_neural(r);
    r.begin_note("001", "Perceptron");
    r.section("Updating weights");
    note001_update(r);
    r.section("Example: Single Perceptron Update Pass");
    note001_pass(r);
    r.section("Multiclass Perceptron");
    note001_multiclass(r);
    return 0;
}
