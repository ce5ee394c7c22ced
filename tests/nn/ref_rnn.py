#!/usr/bin/env python3
"""Reference numbers for tests/nn/rnn_test.cpp (PyTorchReference tests), from PyTorch.

Every parameter p (in named_parameters() order, flattened row-major) is set to
0.5 * sin(0.37 * (i + 1) + 0.11 * k) with i the element index and k the parameter's position;
the input x (T=3, N=2, 3) is sin(0.5 * (i + 1)) and h0 (and c0) cos(0.3 * (i + 1)) * 0.5.
Prints the output and final states of LSTM(3, 2, num_layers=2, bidirectional=True),
GRU(3, 2, bidirectional=True) and RNN(3, 2, nonlinearity="relu"), and the gradient of
sum(output) with respect to x for the LSTM, as C++ initialiser lists.
Run: /usr/bin/python3 tests/nn/ref_rnn.py"""
import math

import torch

torch.set_default_dtype(torch.float64)


def fill(m):
    with torch.no_grad():
        for k, (_, p) in enumerate(m.named_parameters()):
            flat = torch.tensor([0.5 * math.sin(0.37 * (i + 1) + 0.11 * k)
                                 for i in range(p.numel())])
            p.copy_(flat.reshape(p.shape))


def seq(n, f):
    return torch.tensor([f(i) for i in range(n)])


def show(name, t):
    vals = ", ".join(f"{v:.15g}" for v in t.detach().reshape(-1).tolist())
    print(f"// {name} {tuple(t.shape)}\n{{{vals}}},")


T, N, IN, H = 3, 2, 3, 2
x = seq(T * N * IN, lambda i: math.sin(0.5 * (i + 1))).reshape(T, N, IN).requires_grad_()

lstm = torch.nn.LSTM(IN, H, num_layers=2, bidirectional=True)
fill(lstm)
h0 = seq(4 * N * H, lambda i: 0.5 * math.cos(0.3 * (i + 1))).reshape(4, N, H)
out, (hn, cn) = lstm(x, (h0, h0 * 0.5))
show("LSTM output", out)
show("LSTM h_n", hn)
show("LSTM c_n", cn)
out.sum().backward()
show("LSTM d sum(output) / dx", x.grad)

gru = torch.nn.GRU(IN, H, bidirectional=True)
fill(gru)
out, hn = gru(x, h0[:2])
show("GRU output", out)
show("GRU h_n", hn)

rnn = torch.nn.RNN(IN, H, nonlinearity="relu")
fill(rnn)
out, hn = rnn(x, h0[:1])
show("RNN output", out)
show("RNN h_n", hn)
