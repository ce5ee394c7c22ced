#!/usr/bin/env python3
"""Reference numbers for tests/nn/attention_test.cpp and tests/nn/transformer_test.cpp.

Run with Debian's python3-torch (1.13): /usr/bin/python3 tests/nn/ref_attention.py
It prints C++ initialiser lists that were copied into the tests; the test suite never needs
torch. Every value is v(i, c) = 0.5 sin(0.7 i + c) (v1: 1 + that) over the tensor's elements in
PyTorch's layout, so the C++ side can build the same tensors.
"""
import math
import torch

torch.set_default_dtype(torch.float64)


def v(shape, c, one=False):
    n = math.prod(shape)
    t = torch.tensor([0.5 * math.sin(0.7 * i + c) for i in range(n)]).reshape(shape)
    return t + 1 if one else t


def show(name, t):
    vals = ", ".join("%.17g" % x for x in t.detach().flatten().tolist())
    print("// %s %s\nconst std::vector<double> %s = {%s};" % (name, tuple(t.shape), name, vals))


def mha():
    E, H, L, S, N = 4, 2, 3, 4, 2
    m = torch.nn.MultiheadAttention(E, H)
    with torch.no_grad():
        m.in_proj_weight.copy_(v((3 * E, E), 1.0))
        m.in_proj_bias.copy_(v((3 * E,), 2.0))
        m.out_proj.weight.copy_(v((E, E), 3.0))  # (out, in)
        m.out_proj.bias.copy_(v((E,), 4.0))
    q, k, val = v((L, N, E), 5.0), v((S, N, E), 6.0), v((S, N, E), 7.0)
    kpm = torch.tensor([[False, False, False, True], [False, True, False, False]])
    am = v((L, S), 8.0)
    out, w = m(q, k, val, key_padding_mask=kpm, attn_mask=am)
    _, wh = m(q, k, val, key_padding_mask=kpm, attn_mask=am, average_attn_weights=False)
    show("kMhaOut", out)
    show("kMhaWeights", w)
    show("kMhaHeadWeights", wh)


def mha_kdim_vdim():
    E, H, L, S, N, KD, VD = 4, 2, 3, 4, 2, 3, 5
    m = torch.nn.MultiheadAttention(E, H, kdim=KD, vdim=VD)
    with torch.no_grad():
        m.q_proj_weight.copy_(v((E, E), 11.0))
        m.k_proj_weight.copy_(v((E, KD), 12.0))
        m.v_proj_weight.copy_(v((E, VD), 13.0))
        m.in_proj_bias.copy_(v((3 * E,), 2.0))
        m.out_proj.weight.copy_(v((E, E), 3.0))  # (out, in)
        m.out_proj.bias.copy_(v((E,), 4.0))
    q, k, val = v((L, N, E), 5.0), v((S, N, KD), 6.0), v((S, N, VD), 7.0)
    causal = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=1)
    out, w = m(q, k, val, attn_mask=causal)
    show("kMhaKdimVdimOut", out)
    show("kMhaKdimVdimWeights", w)


def encoder(norm_first):
    d, nh, ff, L, N = 4, 2, 6, 3, 2
    layer = torch.nn.TransformerEncoderLayer(d, nh, dim_feedforward=ff, dropout=0.0,
                                             norm_first=norm_first)
    with torch.no_grad():
        for c, (name, p) in enumerate(layer.named_parameters()):
            p.copy_(v(tuple(p.shape), 10.0 + c, one=name.startswith("norm") and "weight" in name))
    src = v((L, N, d), 9.0)
    kpm = torch.tensor([[False, False, True], [False, False, False]])
    causal = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
    y = layer(src, src_mask=causal, src_key_padding_mask=kpm)
    show("kEncoderOut" + ("NormFirst" if norm_first else "NormAfter"), y)


def counts():
    m = torch.nn.MultiheadAttention(64, 4)
    e = torch.nn.TransformerEncoderLayer(64, 4, dim_feedforward=128)
    print("// MultiheadAttention(64, 4): %d parameters" % sum(p.numel() for p in m.parameters()))
    print("// TransformerEncoderLayer(64, 4, 128): %d parameters"
          % sum(p.numel() for p in e.parameters()))
    print("// names: " + " ".join(n for n, _ in e.named_parameters()))


if __name__ == "__main__":
    print("// torch " + torch.__version__)
    mha()
    mha_kdim_vdim()
    encoder(False)
    encoder(True)
    counts()
