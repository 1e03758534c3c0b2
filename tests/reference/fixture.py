"""fixture.py: writes the tensor files the C parity tests read (tests/fixture.h).

Format (little-endian): b"ILDFIX01", u32 count, then per tensor: u32 name_len, name (utf-8), u32 ndim,
i64 dims[ndim], float32 data in C order.
"""
import struct

import numpy as np


def save(path, tensors):
    """tensors: dict name -> array-like (torch tensors are detached and moved to numpy)."""
    with open(path, "wb") as f:
        f.write(b"ILDFIX01")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            if hasattr(t, "detach"):
                t = t.detach().cpu().numpy()
            a = np.ascontiguousarray(np.asarray(t, dtype=np.float32))
            b = name.encode()
            f.write(struct.pack("<I", len(b)))
            f.write(b)
            f.write(struct.pack("<I", a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(a.tobytes())
