"""The IDX file format of MNIST-style datasets: read and write, gzipped (``.gz``) or not.

An IDX file is a big-endian header followed by the values, row-major, big-endian:

    bytes 0-1   0x00 0x00
    byte  2     type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, unsigned 32-bit

MNIST's images are type 0x08 with d = 3 (magic 0x00000803), its labels d = 1 (0x00000801).
"""
import gzip
import zlib
from pathlib import Path

import numpy as np

from ..serialization import atomic_write

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file into a native-endian NumPy array; ValueError naming the file if it is corrupt."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:     # BadGzipFile is an OSError
            raise ValueError(f"{path}: not a readable gzip file ({exc}); delete it and fetch it again") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{int.from_bytes(raw[:4], 'big'):08X}; "
                         f"expected 0x0000TTDD with type TT in {{08, 09, 0B, 0C, 0D, 0E}})")
    dtype, ndim = np.dtype(_TYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: IDX header says shape {shape} of {dtype.name} ({expected:,} bytes), "
                         f"but the file holds {len(raw):,} bytes (truncated or corrupt)")
    # astype: a native-endian, writable copy (frombuffer alone is a read-only view of `raw`)
    return np.frombuffer(raw, dtype, offset=header).astype(dtype.newbyteorder("=")).reshape(shape)


def write_idx(path, array):
    """Write `array` as an IDX file (gzipped when `path` ends in .gz), atomically; returns the Path."""
    array, path = np.asarray(array), Path(path)
    code = next((c for c, t in _TYPES.items() if np.dtype(t) == array.dtype.newbyteorder(">")), None)
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of "
                        f"uint8, int8, int16, int32, float32, float64")
    if array.ndim == 0:
        raise ValueError("write_idx: IDX needs at least one dimension")
    data = (bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
            + array.astype(_TYPES[code]).tobytes())
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return Path(atomic_write(path, lambda f: f.write(data)))
