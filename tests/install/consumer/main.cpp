// Uses only installed headers: (x + y) * z at x=2, y=3, z=4, so df/dx = 4 and df/dz = 5.
#include <autograd/autograd.h>

#include <iostream>

int main() {
    using namespace xgrad;
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor f = (x + y) * z;
    f.backward();
    std::cout << "f=" << f.item() << " dx=" << x.grad().item() << " dz=" << z.grad().item() << "\n";
    return f.item() == 20 && x.grad().item() == 4 && z.grad().item() == 5 ? 0 : 1;
}
