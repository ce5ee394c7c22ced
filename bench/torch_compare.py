#!/usr/bin/env python3
"""xgrad against PyTorch on whole training steps of the example models, one thread each.

Runs build/bench/bench_models (Google Benchmark, median of 5) and the same models in PyTorch
(Debian's python3-torch), and prints xgrad's time per step over PyTorch's:
  cnn          the demo's CNN of examples/fashion_mnist.h (LeNet-5's layout at 16 and 32
               channels, BatchNorm), batch 128, cross-entropy, Adam
               (a step's ratio is the epoch's ratio: an epoch is 469 such steps in both)
  transformer  the character Transformer of examples/char_lm.h: 2 pre-norm encoder layers,
               4 heads, d_model 64, feed-forward 256, GELU, causal mask, context 16, batch 64
Optional: says so and exits 0 when torch is not installed. Not part of the test suite.
Usage: python3 bench/torch_compare.py [build/bench/bench_models]"""
import statistics
import sys
import time

from gbench_medians import medians


def xgrad_times(binary):
    times = medians(binary, ["--benchmark_repetitions=5"])
    return times["BM_ModelCnnStep"], times["BM_ModelTransformerStep"]


def median_step(step, warmup=3, reps=5, inner=10):
    for _ in range(warmup):
        step()
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            step()
        runs.append((time.perf_counter() - t0) / inner)
    return statistics.median(runs)


def torch_times(torch):
    nn = torch.nn
    torch.set_num_threads(1)
    torch.manual_seed(1)
    cnn = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 16, 5, padding=2),
                        nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5),
                        nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(800, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                        nn.Linear(84, 10))
    opt = torch.optim.Adam(cnn.parameters(), lr=1e-3)
    x = torch.rand(128, 784)
    y = torch.arange(128) % 10

    def cnn_step():
        opt.zero_grad()
        nn.functional.cross_entropy(cnn(x), y).backward()
        opt.step()

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(27, 64)
            self.pos = nn.Embedding(16, 64)
            self.blocks = nn.ModuleList(
                nn.TransformerEncoderLayer(64, 4, 256, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
                for _ in range(2))
            self.norm = nn.LayerNorm(64)
            self.head = nn.Linear(64, 27)
            self.register_buffer("mask", torch.triu(torch.full((16, 16), float("-inf")), 1))

        def forward(self, t):
            h = self.tok(t) + self.pos(torch.arange(t.shape[1]))
            for b in self.blocks:
                h = b(h, src_mask=self.mask)
            return self.head(self.norm(h))

    tf = CharTransformer()
    topt = torch.optim.Adam(tf.parameters(), lr=1e-3)
    tokens = torch.randint(0, 27, (64, 16))
    targets = torch.randint(0, 27, (64 * 16,))

    def tf_step():
        topt.zero_grad()
        nn.functional.cross_entropy(tf(tokens).reshape(-1, 27), targets).backward()
        topt.step()

    return median_step(cnn_step), median_step(tf_step)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/bench/bench_models"
    try:
        import torch
    except ImportError:
        print("torch_compare: PyTorch is not installed (Debian: apt-get install python3-torch); "
              "nothing compared")
        return 0
    xc, xt = xgrad_times(binary)
    tc, tt = torch_times(torch)
    print(f"PyTorch {torch.__version__}, one thread each; ms per training step")
    print(f"{'model':12s} {'xgrad':>9s} {'PyTorch':>9s} {'xgrad/PyTorch':>14s}")
    for name, a, b in (("cnn", xc, tc), ("transformer", xt, tt)):
        print(f"{name:12s} {a * 1e3:9.3f} {b * 1e3:9.3f} {a / b:14.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
