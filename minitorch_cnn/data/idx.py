"""The IDX file format of MNIST-style datasets: read and write, gzipped or not.

An IDX file is a big-endian header followed by the raw values:

    bytes 0-1   0x00 0x00
    byte  2     type code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, unsigned 32-bit big-endian
    the rest    prod(sizes) values, row-major, big-endian

MNIST's image files are type 0x08 with d = 3 (magic number 2051 = 0x00000803),
its label files type 0x08 with d = 1 (magic 2049 = 0x00000801).  A file whose
name ends in ``.gz`` is read and written through gzip.
"""
import gzip
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

_TYPE_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODE_OF = {np.dtype(v).newbyteorder("="): k for k, v in _TYPE_CODES.items()}


def _read_bytes(path):
    path = Path(path)
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise ValueError(f"{path}: not a readable gzip file ({exc}); delete it and fetch it again") from exc


def parse_idx(raw, name="<bytes>"):
    """Decode the bytes of an IDX file into a native-endian array; ValueError naming `name` if malformed."""
    if len(raw) < 4:
        raise ValueError(f"{name}: not an IDX file (only {len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPE_CODES:
        magic = int.from_bytes(raw[:4], "big")
        raise ValueError(f"{name}: not an IDX file (magic number 0x{magic:08X}; expected 0x0000TTDD "
                         f"with type TT in {{08, 09, 0B, 0C, 0D, 0E}})")
    dtype, ndim = np.dtype(_TYPE_CODES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(raw)} bytes, {ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{name}: IDX header says shape {shape} of {dtype.name} ({expected:,} bytes), "
                         f"but the file holds {len(raw):,} bytes (truncated or corrupt)")
    # a native-endian, writable copy (frombuffer alone would be a read-only view of `raw`)
    return np.frombuffer(raw, dtype=dtype, offset=header).astype(dtype.newbyteorder("=")).reshape(shape)


def read_idx(path):
    """Read an IDX file (``.gz`` or raw) into a NumPy array; ValueError naming the file if it is corrupt."""
    return parse_idx(_read_bytes(path), str(path))


def write_idx(path, array):
    """Write `array` as an IDX file (gzipped when `path` ends in .gz), atomically."""
    array = np.asarray(array)
    code = _CODE_OF.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; use one of "
                        f"uint8, int8, int16, int32, float32, float64")
    if array.ndim == 0:
        raise ValueError("write_idx: IDX needs at least one dimension")
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    body = np.ascontiguousarray(array, dtype=np.dtype(_TYPE_CODES[code])).tobytes()
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            if path.suffix == ".gz":
                with gzip.GzipFile(filename=path.stem, mode="wb", fileobj=fh, mtime=0) as gz:
                    gz.write(header + body)
            else:
                fh.write(header + body)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
