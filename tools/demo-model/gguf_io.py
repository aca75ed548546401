"""gguf_io.py: a minimal GGUF v3 writer and reader (enough for the demo model).

Layout written: "GGUF", version 3, tensor count, KV count, the KV pairs, the tensor
infos (name, n_dims, ne[] with ne[0] the row length, type, offset relative to the data
section), padding to general.alignment (32), then the tensor data, each tensor
starting at a multiple of 32. Little-endian throughout. Only F32 and F16 tensors.
"""
import struct

import numpy as np

ALIGN = 32

T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL, T_STRING, \
    T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = range(13)
GGML_F32, GGML_F16 = 0, 1

_SCALAR = {T_UINT8: "<B", T_INT8: "<b", T_UINT16: "<H", T_INT16: "<h", T_UINT32: "<I",
           T_INT32: "<i", T_FLOAT32: "<f", T_BOOL: "<?", T_UINT64: "<Q", T_INT64: "<q",
           T_FLOAT64: "<d"}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(vtype, v):
    if vtype == T_STRING:
        return _str(v)
    return struct.pack(_SCALAR[vtype], v)


def write(path, kvs, tensors):
    """kvs: list of (key, type, value) where an array is (key, (T_ARRAY, elem_type), list).
    tensors: list of (name, numpy array (rows, row_len) or (n,), ggml type)."""
    out = bytearray(b"GGUF")
    out += struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, vtype, v in kvs:
        out += _str(key)
        if isinstance(vtype, tuple):
            out += struct.pack("<IIQ", T_ARRAY, vtype[1], len(v))
            for e in v:
                out += _value(vtype[1], e)
        else:
            out += struct.pack("<I", vtype) + _value(vtype, v)
    blobs, off = [], 0
    for name, arr, gtype in tensors:
        data = np.ascontiguousarray(arr, dtype=np.float16 if gtype == GGML_F16 else np.float32).tobytes()
        ne = list(reversed(arr.shape))  # ne[0] = row length
        out += _str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        out += struct.pack("<IQ", gtype, off)
        blobs.append((off, data))
        off += len(data)
        off = (off + ALIGN - 1) // ALIGN * ALIGN
    out += b"\0" * ((-len(out)) % ALIGN)
    base = len(out)
    for o, data in blobs:
        out += b"\0" * (base + o - len(out))
        out += data
    with open(path, "wb") as f:
        f.write(out)
    return len(out)


def read(path):
    """Returns (kv dict, {name: numpy float32 array shaped (ne[n-1], ..., ne[0])})."""
    buf = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        r = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return r[0] if len(r) == 1 else r

    def rstr():
        nonlocal pos
        n = take("<Q")
        s = buf[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def rval(t):
        if t == T_STRING:
            return rstr()
        if t == T_ARRAY:
            et, n = take("<IQ")
            return [rval(et) for _ in range(n)]
        return take(_SCALAR[t])

    assert buf[:4] == b"GGUF"
    pos = 4
    version, n_t, n_kv = take("<IQQ")
    assert version == 3
    kv = {}
    for _ in range(n_kv):
        k = rstr()
        kv[k] = rval(take("<I"))
    infos = []
    for _ in range(n_t):
        name = rstr()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        gt, off = take("<IQ")
        infos.append((name, ne, gt, off))
    align = kv.get("general.alignment", ALIGN)
    base = (pos + align - 1) // align * align
    tensors = {}
    for name, ne, gt, off in infos:
        n = int(np.prod(ne))
        dt = np.float16 if gt == GGML_F16 else np.float32
        a = np.frombuffer(buf, dtype=dt, count=n, offset=base + off).astype(np.float32)
        tensors[name] = a.reshape(list(reversed(ne)))
    return kv, tensors
