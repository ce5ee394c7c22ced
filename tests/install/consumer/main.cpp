// Uses only installed headers: (x + y) * z at x=2, y=3, z=4, so df/dx = 4 and df/dz = 5; then
// xgrad::nn with xgrad::data beneath it: a checkpoint saved and loaded into another layer.
#include <autograd/autograd.h>
#include <nn/nn.h>

#include <cstdio>
#include <iostream>

int main() {
    using namespace xgrad;
    Tensor x = scalar(2, f64, true), y = scalar(3, f64, true), z = scalar(4, f64, true);
    Tensor f = (x + y) * z;
    f.backward();
    std::cout << "f=" << f.item() << " dx=" << x.grad().item() << " dz=" << z.grad().item() << "\n";
    const bool grads_ok = f.item() == 20 && x.grad().item() == 4 && z.grad().item() == 5;

    nn::Linear a(3, 2), b(3, 2);
    nn::init::constant_(a.weight(), 0.5);
    nn::save_checkpoint("consumer_checkpoint.xgt", a);
    nn::load_checkpoint("consumer_checkpoint.xgt", b);
    std::remove("consumer_checkpoint.xgt");
    const bool checkpoint_ok = b.weight().to_vector() == a.weight().to_vector();
    std::cout << "checkpoint " << (checkpoint_ok ? "restored" : "differs") << "\n";
    return grads_ok && checkpoint_ok ? 0 : 1;
}
