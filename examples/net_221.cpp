// Note 004: the 2-2-1 sigmoid network, worked through as the solution does, with the engine's
// exact numbers next to the solution's printed (rounded) ones. (The same section runs inside
// ./build/examples/walkthrough.)
//
//   ./build/examples/net_221

#include "examples/course/net_221.h"

#include <iostream>

int main() {
    xgrad::examples::Report r(std::cout);
    r.begin_note("004", "Neural Network (the 2-2-1 network)");
    xgrad::examples::net_221(r);
    return 0;
}
