#!/usr/bin/python3
"""Writes the .npy/.npz fixtures of tests/nn/data/npy_test.cpp with NumPy (run from this
directory: /usr/bin/python3 ref_npy_fixtures.py, Debian's python3-numpy). The test itself never needs NumPy; the values it
expects are spelled out in the test and printed here."""
import numpy as np

print("numpy", np.__version__)
f32 = np.array([[1.5, -2.0, 3.25], [0.0, 1e-8, -7.0]], dtype="<f4")
np.save("f32_2x3.npy", f32)
np.save("f64_scalar.npy", np.array(2.718281828459045, dtype="<f8"))
i64 = np.array([0, -1, 2**62 + 1, -(2**63)], dtype="<i8")
np.save("i64_4.npy", i64)
np.save("bool_2x2.npy", np.array([[True, False], [False, True]]))
# Column-major storage of [[1, 2, 3], [4, 5, 6]]: the bytes are 1 4 2 5 3 6.
np.save("f64_fortran_2x3.npy", np.asfortranarray(np.array([[1, 2, 3], [4, 5, 6]], dtype="<f8")))
np.save("f8_big_endian_3.npy", np.array([1.0, -2.5, 1e300], dtype=">f8"))
np.save("empty_0x3.npy", np.zeros((0, 3), dtype="<f4"))
np.save("i32_unsupported.npy", np.array([1, 2], dtype="<i4"))
arrays = {"weight": f32, "bias": np.array([0.5, -0.5], dtype="<f8"), "steps": i64}
np.savez("model_stored.npz", **arrays)
np.savez_compressed("model_deflated.npz", **arrays)
for name in ["f32_2x3.npy", "f64_fortran_2x3.npy"]:
    print(name, np.load(name).tolist())
with np.load("model_deflated.npz") as z:
    print("npz keys", list(z.keys()))
