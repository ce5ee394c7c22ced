// The README's demo: the course graphs computed by xgrad, every number printed.

#include "examples/course_graphs.h"

int main() {
    using namespace xgrad::examples;
    std::printf("== xgrad demo: the course's computation graphs ==\n\n");
    print_figure4();
    print_figure5();
    print_quadratic_form();
    print_two_weight_net(/*x=*/1.0, /*w1=*/0.5, /*w2=*/-1.5, /*y*=*/1.0);
    print_step_neuron();
    return 0;
}
