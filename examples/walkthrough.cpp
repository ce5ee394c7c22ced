// The course walkthrough: every exercise of the five course notes, in order, computed by xgrad.
// The sections are in examples/walkthrough.h; tests/course/walkthrough_test.cpp checks them.
//
//   ./build/examples/walkthrough

#include "examples/walkthrough.h"

#include <iostream>

int main() {
    xgrad::examples::run_walkthrough(std::cout);
    return 0;
}
