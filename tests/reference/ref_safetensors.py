"""ref_safetensors.py: safetensors files written by hand, without torch or the safetensors package (struct + json,
following the format spec: u64 little-endian header length, JSON header, data block), for the C reader
(src/nn/safetensors.h); and the expected float16 / bfloat16 rounding of edge-case values.

Writes st_python.safetensors: "model.a.weight" F32 (3, 4), "model.b" F16 (6), "blocks.0.norm.weight" BF16 (2, 3),
"scalar" F32 (), "empty" F32 (0, 3), "ids" I64 (2), "double" F64 (2), metadata {"format": "pt", "by": "python"};
the data block is laid out in a different order from the header. And safetensors.bin (fixture) with the decoded
float values of each float tensor under its name, plus "round.x", "round.f16", "round.bf16": values and their
float16 / bfloat16 round trips (numpy astype(float16); torch .bfloat16()).
"""
import json
import os
import struct

import numpy as np

import fixture


def write_safetensors(path, tensors, metadata=None, order=None):
    """tensors: list of (name, dtype string, shape, raw little-endian bytes). order: indices giving the layout of
    the data block (default: header order). The header is padded with spaces to a multiple of 8."""
    order = list(range(len(tensors))) if order is None else order
    offsets, at = {}, 0
    for i in order:
        name, _, _, raw = tensors[i]
        offsets[name] = (at, at + len(raw))
        at += len(raw)
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, _ in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets[name])}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for i in order:
            f.write(tensors[i][3])


def make(outdir):
    rng = np.random.default_rng(8)
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = np.array([1.0, -2.5, 65504.0, 6e-8, 1e-5, 0.333], dtype=np.float16)
    bf = np.array([[1.0, -0.15625, 3.0e38], [1e-30, 7.0, -1.0]], dtype=np.float32)
    bf_bits = (bf.view(np.uint32) >> 16).astype(np.uint16)  # exact: these values have 8-bit mantissas or are cut
    bf_val = (bf_bits.astype(np.uint32) << 16).view(np.float32)
    scalar = np.array(3.25, dtype=np.float32)
    empty = np.zeros((0, 3), dtype=np.float32)
    ids = np.array([7, -1], dtype=np.int64)
    dbl = np.array([0.1, -1e10], dtype=np.float64)
    tensors = [
        ("model.a.weight", "F32", a.shape, a.tobytes()),
        ("model.b", "F16", b.shape, b.astype("<f2").tobytes()),
        ("blocks.0.norm.weight", "BF16", bf.shape, bf_bits.astype("<u2").tobytes()),
        ("scalar", "F32", (), scalar.tobytes()),
        ("empty", "F32", empty.shape, b""),
        ("ids", "I64", ids.shape, ids.astype("<i8").tobytes()),
        ("double", "F64", dbl.shape, dbl.astype("<f8").tobytes()),
    ]
    write_safetensors(os.path.join(outdir, "st_python.safetensors"), tensors, {"format": "pt", "by": "python"},
                      order=[3, 1, 6, 0, 4, 5, 2])
    x = np.array([0.0, -0.0, 1.0, 1.0009765625 / 2 + 0.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519.99, 65520,
                  1e6, -1e6, 2 ** -14, 2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -26, 1e-10, 0.1, -0.7, 3.14159,
                  np.inf, -np.inf, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 3.0e38, 3.4e38, 1e-40,
                  -1e-39], dtype=np.float32)
    import torch  # for bfloat16 only (numpy has none)

    with np.errstate(over="ignore"):  # 65520 and up overflow to inf on purpose
        f16 = x.astype(np.float16).astype(np.float32)
    bf16 = torch.from_numpy(x).bfloat16().float().numpy()
    t = {"model.a.weight": a, "model.b": b.astype(np.float32), "blocks.0.norm.weight": bf_val, "scalar": scalar,
         "double": dbl.astype(np.float32), "round.x": x, "round.f16": f16, "round.bf16": bf16}
    fixture.save(os.path.join(outdir, "safetensors.bin"), t)
