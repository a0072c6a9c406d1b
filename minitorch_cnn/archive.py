"""Reading the .npz archives of mt.save and the checkpoints from files nobody vouches for.

np.load trusts its file: an .npy header claiming 10**12 elements allocates them, a zip member
inflates as far as its deflate stream goes, and a file that is not a zip falls through to the
pickle path ("allow_pickle=False").  read_npz instead reads the zip's central directory, then
every member's .npy header (inflating only the header's few bytes), and checks them all before
any member's data is inflated: names, dtypes (numbers and bools; a 0-d string for the one JSON
member), sizes (header == zip entry, within what deflate can make of the entry's compressed
bytes, entries not overlapping).  Each member is then inflated into an array of exactly its
header's size, and refused as soon as its stream holds more, or if it holds less or fails its
CRC.  JSON is parsed only below a nesting depth.  Every failure is an ArchiveError whose message
says what the file is, or names the member at fault; callers prefix the file's name.
"""
import json
import os
import re
import stat
import struct
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy_format

MAX_JSON_DEPTH = 320            # mt.save's 100 nested containers take at most 3 JSON levels each
MAX_JSON_CHARS = 1 << 24        # the JSON member (real ones are a few kB)
_MAX_DEFLATE_RATIO = 1032       # deflate's ceiling: 258 bytes per (at least) 2 bits
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_ZIP_MAGIC = b"PK\x03\x04"


class ArchiveError(ValueError):
    """What is wrong with an archive, without the file's name (the caller adds it)."""


def _kind(mode):
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path):
    """The regular file at `path`, opened for binary reading.  FileNotFoundError when nothing is
    there; ArchiveError saying what is there when it is no regular file (a folder, /dev/zero, a
    FIFO: refused before reading, so nothing blocks or reads forever) or cannot be opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise ArchiveError(f"it is a symbolic link to {os.readlink(path)!r}, which does not exist") from None
        raise
    except OSError as exc:
        raise ArchiveError(f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise ArchiveError(f"it is {_kind(mode)}, not a file")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ArchiveError(f"cannot be read ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):           # swapped since the stat above
        os.close(fd)
        raise ArchiveError(f"it is {_kind(mode)}, not a file")
    return os.fdopen(fd, "rb")


def describe_non_zip(head):
    """What a file starting with bytes `head` is, for one that is not a zip archive."""
    if not head:
        return "it is empty (0 bytes)"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single NumPy array (.npy), not an .npz archive of arrays"
    if len(head) >= 4 and sum(a == b for a, b in zip(head[:4], _ZIP_MAGIC)) == 3:
        return (f"it is a damaged zip archive: it starts with {head[:4]!r}, where a zip archive "
                f"starts with {_ZIP_MAGIC!r}")
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip-compressed data, not a zip (.npz) archive"
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle, which is never loaded here"
    try:
        text = head[:256].decode("utf-8")
    except UnicodeDecodeError as exc:
        text = head[:exc.start].decode("utf-8") if exc.start > len(head[:256]) - 4 else None
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        snippet = text[:40] + ("..." if len(text) > 40 else "")
        return f"it is a text file, not a zip (.npz) archive (it starts {snippet!r})"
    return f"it is not a zip (.npz) archive (it starts with bytes {head[:8].hex(' ')})"


def _raw_chunks(fp, start, size, chunk):
    fp.seek(start)
    while size:
        data = fp.read(min(chunk, size))
        if not data:
            raise ArchiveError("its data is cut short (a truncated file)")
        size -= len(data)
        yield data


def _member_chunks(fp, info, start, chunk=_CHUNK):
    """The member's bytes, inflated at most `chunk` bytes at a time."""
    raw = _raw_chunks(fp, start, info.compress_size, chunk)
    if info.compress_type == zipfile.ZIP_STORED:
        yield from raw
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        for data in raw:
            while not inflater.eof:
                out = inflater.decompress(data, chunk)
                data = inflater.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < chunk:
                    break
            if inflater.eof:
                return
    except zlib.error as exc:
        raise ArchiveError(f"member {info.filename!r} has damaged compressed data ({exc})") from None
    raise ArchiveError(f"member {info.filename!r}: its compressed data ends before its stream does")


class _Reader:
    """read(n) over a chunk generator, for NumPy's header parser; counts what it consumed."""

    def __init__(self, chunks):
        self.chunks, self.buffer, self.consumed = chunks, b"", 0

    def read(self, n):
        while len(self.buffer) < n:
            more = next(self.chunks, None)
            if more is None:
                break
            self.buffer += more
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        self.consumed += len(out)
        return out


def _header(fp, info, start):
    """(shape, fortran_order, dtype, header length) of the member's .npy header, inflating
    only about the header's own bytes."""
    reader = _Reader(_member_chunks(fp, info, start, chunk=4096))
    name = info.filename
    try:
        version = npy_format.read_magic(reader)
        if version == (1, 0):
            shape, fortran, dtype = npy_format.read_array_header_1_0(reader, max_header_size=10000)
        elif version == (2, 0):
            shape, fortran, dtype = npy_format.read_array_header_2_0(reader, max_header_size=10000)
        else:
            raise ArchiveError(f"member {name!r} is .npy version {version}, which np.savez never writes")
    except ArchiveError:
        raise
    except Exception as exc:      # noqa: BLE001 - NumPy's parser of the untrusted header text
        raise ArchiveError(f"member {name!r} has no readable .npy header ({exc})") from None
    return shape, fortran, dtype, reader.consumed


def _check_header(name, shape, dtype, header_len, info, json_member):
    if dtype.hasobject:
        raise ArchiveError(f"member {name!r} has dtype object, which only a pickle can hold; "
                           "this format holds numbers only")
    if dtype.names is not None or dtype.subdtype is not None or dtype.kind == "V":
        raise ArchiveError(f"member {name!r} has the structured dtype {dtype.descr}; only plain "
                           "numbers and bools are read")
    if name == json_member:
        if dtype.kind != "U" or shape != ():
            raise ArchiveError(f"member {name!r} must be one string (JSON), found a {dtype} array "
                               f"of shape {shape}")
        if dtype.itemsize // 4 > MAX_JSON_CHARS:
            raise ArchiveError(f"member {name!r} is a string of {dtype.itemsize // 4:,} characters, "
                               f"more than the {MAX_JSON_CHARS:,} allowed")
    elif dtype.kind not in "biufc":
        raise ArchiveError(f"member {name!r} has dtype {dtype}; only numbers and bools are read")
    if any(d < 0 for d in shape):
        raise ArchiveError(f"member {name!r} has the negative shape {shape}")
    count = 1
    for d in shape:
        count *= d
    size = header_len + count * dtype.itemsize
    if size != info.file_size:
        raise ArchiveError(f"member {name!r}: its header declares a {dtype} array of shape {shape} "
                           f"({size:,} bytes with the header), but its zip entry holds "
                           f"{info.file_size:,} bytes")
    return size


def _check_entries(fp, infos):
    """Each entry's data offset; refuses encrypted, unknown-method, impossible-ratio and
    overlapping entries (the shapes of zip bombs)."""
    fp.seek(0, os.SEEK_END)
    file_size = fp.tell()
    starts, spans = {}, []
    for info in infos:
        name = info.filename
        if info.flag_bits & 1:
            raise ArchiveError(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"member {name!r} uses zip compression method {info.compress_type}, "
                               "not one np.savez writes (stored or deflate)")
        ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
        if info.file_size > info.compress_size * ratio + 1024:
            raise ArchiveError(f"member {name!r} declares {info.file_size:,} bytes from "
                               f"{info.compress_size:,} compressed, more than "
                               f"{'storing' if ratio == 1 else 'deflate'} can give")
        if not 0 <= info.header_offset <= file_size - _LOCAL_HEADER.size:
            raise ArchiveError(f"member {name!r}: the directory puts it outside the file (a damaged archive)")
        fp.seek(info.header_offset)
        local = fp.read(_LOCAL_HEADER.size)
        if len(local) < _LOCAL_HEADER.size or local[:4] != _ZIP_MAGIC:
            raise ArchiveError(f"member {name!r}: no zip entry where the directory puts it (a damaged archive)")
        fields = _LOCAL_HEADER.unpack(local)
        start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]
        if start + info.compress_size > file_size:
            raise ArchiveError(f"member {name!r} runs past the end of the file (a truncated file)")
        starts[name] = start
        spans.append((info.header_offset, start + info.compress_size, name))
    spans.sort()
    for (_, end, first), (begin, _, second) in zip(spans, spans[1:]):
        if begin < end:
            raise ArchiveError(f"members {first!r} and {second!r} overlap (a zip bomb's shape)")
    return starts


def read_npz(fp, json_member):
    """-> (arrays: {name: ndarray} without the JSON member, the JSON member's parsed value) from
    the binary, seekable file `fp`.  ArchiveError on anything else than np.savez's archive of
    number arrays plus one JSON string."""
    fp.seek(0)
    head = fp.read(8)
    if not head.startswith(_ZIP_MAGIC) and not head.startswith(b"PK\x05\x06"):
        raise ArchiveError(describe_non_zip(head + fp.read(248)))
    try:
        infos = zipfile.ZipFile(fp).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error,
            NotImplementedError, OverflowError) as exc:
        raise ArchiveError(f"it is a damaged or truncated zip archive ({exc})") from None
    names = [info.filename for info in infos]
    if any(name.endswith("data.pkl") for name in names):
        raise ArchiveError("it is real PyTorch's pickled format (it holds data.pkl), which this engine "
                           "never loads")
    keys = {}
    for info in infos:
        if not info.filename.endswith(".npy"):
            raise ArchiveError(f"member {info.filename!r} is not an .npy array")
        key = info.filename[:-4]
        if key in keys:
            raise ArchiveError(f"member {info.filename!r} appears twice")
        keys[key] = info
    if json_member not in keys:
        raise ArchiveError(f"it has no {json_member!r} member")
    starts = _check_entries(fp, infos)
    headers = {}
    for key, info in keys.items():          # every header checked before any data is inflated
        shape, fortran, dtype, header_len = _header(fp, info, starts[info.filename])
        if dtype.itemsize == 0:
            raise ArchiveError(f"member {key!r} has the empty dtype {dtype}")
        size = _check_header(key, shape, dtype, header_len, info, json_member)
        headers[key] = shape, fortran, dtype, header_len, size
    arrays = {}
    for key, info in keys.items():
        shape, fortran, dtype, header_len, size = headers[key]
        arrays[key] = _read_member(fp, info, starts[info.filename], shape, fortran, dtype, header_len, size)
    text = arrays.pop(json_member).item()
    return arrays, parse_json(text, f"member {json_member!r}")


def _read_member(fp, info, start, shape, fortran, dtype, header_len, size):
    data = np.empty(size - header_len, np.uint8)
    crc, got = 0, 0
    for chunk in _member_chunks(fp, info, start):
        crc = zlib.crc32(chunk, crc)
        if got + len(chunk) > size:
            raise ArchiveError(f"member {info.filename!r} inflates beyond the {size:,} bytes its "
                               "header declares")
        lo, hi = max(got, header_len), got + len(chunk)
        if hi > lo:
            data[lo - header_len:hi - header_len] = np.frombuffer(chunk, np.uint8, hi - lo, lo - got)
        got = hi
    if got != size:
        raise ArchiveError(f"member {info.filename!r} holds {got:,} bytes, its header declares {size:,}")
    if crc != info.CRC:
        raise ArchiveError(f"member {info.filename!r} fails its CRC check (damaged data)")
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text):
    """How deeply the JSON text's arrays and objects nest (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps, dtype=np.int32).max())


def parse_json(text, what):
    """json.loads(text), refused with ArchiveError naming `what` when malformed or nested deeper
    than MAX_JSON_DEPTH (checked before parsing, so no recursion runs away)."""
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ArchiveError(f"{what} nests {depth:,} levels deep, more than the {MAX_JSON_DEPTH} allowed")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ArchiveError(f"{what} is not valid JSON ({exc})") from None
