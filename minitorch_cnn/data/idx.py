"""The IDX file format of MNIST-style datasets: read and write, gzipped (``.gz``) or not.

An IDX file is a big-endian header followed by the values, row-major, big-endian:

    bytes 0-1   0x00 0x00
    byte  2     type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, unsigned 32-bit

MNIST's images are type 0x08 with d = 3 (magic 0x00000803), its labels d = 1 (0x00000801).

Reading is bounded by the header: the header is read (and checked) first, a file whose size
cannot match it is refused before its values are read, and a ``.gz`` file is inflated in 1 MiB
steps, never past what the header says it holds, so a gzip bomb in the data folder is refused
after a few MiB of memory, not after inflating gigabytes.
"""
import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..serialization import atomic_write

_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CHUNK = 1 << 20            # bytes inflated (or read) per step
# Deflate inflates at most 1032:1, so a .gz file of n bytes cannot hold more than 1032 n (plus its
# header's worth); MNIST's files are 4:1 to 8:1.  Above _COUNT_FIRST_RATIO:1 the values are counted
# (inflated and dropped, in steps) before any memory for them is taken, so that a bomb whose header
# claims what its zeros fill is refused without holding them.
_DEFLATE_MAX_RATIO = 1032
_COUNT_FIRST_RATIO = 64


def read_idx(path):
    """Read an IDX file into a native-endian NumPy array; ValueError naming the file if it is corrupt
    (a bad header, a size that does not match it, a gzip file that is not one or that inflates to more
    than the header says: see the module docstring)."""
    path = Path(path)
    with open(path, "rb") as stored:
        size = os.fstat(stored.fileno()).st_size
        if path.suffix != ".gz":
            return _read_values(stored, path, size, packed=False)
        try:
            with gzip.GzipFile(fileobj=stored, mode="rb") as inflated:
                return _read_values(inflated, path, size, packed=True)
        except (OSError, EOFError, zlib.error) as exc:     # BadGzipFile is an OSError
            raise ValueError(f"{path}: not a readable gzip file ({exc}); delete it and fetch it again") from None


def _read_exactly(f, n):
    """Up to n bytes of f (fewer only at its end), read in steps."""
    parts, got = [], 0
    while got < n:
        part = f.read(min(_CHUNK, n - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_values(f, path, stored_size, packed):
    """The array of the IDX stream f (the file itself, or its inflated content when `packed`)."""
    head = _read_exactly(f, 4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _TYPES:
        raise ValueError(f"{path}: not an IDX file (magic number 0x{int.from_bytes(head, 'big'):08X}; "
                         f"expected 0x0000TTDD with type TT in {{08, 09, 0B, 0C, 0D, 0E}})")
    dtype, ndim = np.dtype(_TYPES[head[2]]), head[3]
    dims = _read_exactly(f, 4 * ndim)
    header = 4 + 4 * ndim
    if ndim == 0 or len(dims) < 4 * ndim:
        raise ValueError(f"{path}: truncated IDX header ({4 + len(dims)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    payload = 1
    for n in shape:             # Python ints: 255 dimensions of 2**32 - 1 do not overflow
        payload *= n
    payload *= dtype.itemsize
    expected = header + payload
    says = f"{path}: IDX header says shape {shape} of {dtype.name} ({expected:,} bytes)"
    if not packed:
        if stored_size != expected:         # refused before a byte of the values is read
            raise ValueError(f"{says}, but the file holds {stored_size:,} bytes (truncated or corrupt)")
    elif payload > _DEFLATE_MAX_RATIO * stored_size:
        raise ValueError(f"{says}, more than a {stored_size:,}-byte gzip file can hold (deflate inflates "
                         f"at most {_DEFLATE_MAX_RATIO}:1): truncated or corrupt")
    elif payload > _COUNT_FIRST_RATIO * stored_size:
        _count_values(f, says, header, payload)
    values = np.empty(payload, dtype=np.uint8)
    view, got = memoryview(values), 0
    while got < payload:
        n = f.readinto(view[got:got + _CHUNK])
        if not n:
            break
        got += n
    view.release()
    if got < payload:
        raise ValueError(f"{says}, but the file {'inflates to' if packed else 'holds'} {header + got:,} "
                         f"bytes (truncated or corrupt)")
    if packed and f.read(1):
        raise ValueError(f"{says}, but the gzip file inflates to more than that (a gzip bomb or a corrupt "
                         f"file): refused after {expected + 1:,} bytes")
    # a native-endian, writable array (a copy unless the values are single bytes)
    return values.view(dtype).astype(dtype.newbyteorder("="), copy=False).reshape(shape)


def _count_values(f, says, header, payload):
    """Inflate the values of f, dropping them, to check there are exactly `payload` bytes (refusing as
    soon as there are more); then rewind f to them."""
    got = 0
    while got <= payload:
        part = f.read(_CHUNK)
        if not part:
            break
        got += len(part)
    if got > payload:
        raise ValueError(f"{says}, but the gzip file inflates to more than that (a gzip bomb or a corrupt "
                         f"file): refused after {header + got:,} bytes")
    if got < payload:
        raise ValueError(f"{says}, but the file inflates to {header + got:,} bytes (truncated or corrupt)")
    f.seek(header)


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
