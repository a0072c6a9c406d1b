"""mt.load, mt.save and read_checkpoint on malformed and hostile files: one documented error
type (SerializationError for mt.load, CheckpointError for checkpoints) naming what the file is
or the member/entry at fault, in memory bounded by the file's own size, never KeyError,
TypeError, RecursionError, MemoryError or NumPy's "allow_pickle" message."""
import copy
import io
import json
import os
import random
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import minitorch_cnn as mt
from minitorch_cnn import archive, models
from minitorch_cnn.checkpoint import CheckpointError, read_checkpoint, save_checkpoint
from minitorch_cnn.serialization import FORMAT, MAX_NESTING, SerializationError

MB = 1 << 20


# ---------------------------------------------------------------- building hostile files

def npy(descr, shape, data=b"", fortran=False):
    """The bytes of an .npy file whose header says descr/shape, followed by `data` (any size)."""
    header = repr({"descr": descr, "fortran_order": fortran, "shape": shape}).encode("latin1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * (pad % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def raw_zip(path, entries):
    """A zip written by hand, so that sizes, CRCs and offsets can lie.  entries: dicts with
    name, data (the bytes as stored), and optional method, crc, usize (declared inflated
    size), offset (point the directory at another entry's local header)."""
    out, central, offsets = bytearray(), bytearray(), []
    for e in entries:
        name, data = e["name"].encode(), e["data"]
        method = e.get("method", zipfile.ZIP_STORED)
        crc, usize = e.get("crc", zlib.crc32(data)), e.get("usize", len(data))
        offsets.append(len(out))
        out += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, method, 0, 0x21, crc, len(data),
                           usize, len(name), 0) + name + data
        offset = offsets[e["offset"]] if "offset" in e else offsets[-1]
        central += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 0, 20, 0, 0, method, 0, 0x21, crc,
                               len(data), usize, len(name), 0, 0, 0, 0, 0, offset) + name
    eocd = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    path.write_bytes(bytes(out + central + eocd))
    return path


def deflated(entry_bytes):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(entry_bytes) + compressor.flush()


def structure(root):
    return npy("<U%d" % len(json.dumps({"format": FORMAT, "root": root})), (),
               json.dumps({"format": FORMAT, "root": root}).encode("utf-32-le"))


def meta(value=None):
    text = json.dumps({"format": "minitorch_cnn.checkpoint/1"} if value is None else value)
    return npy("<U%d" % len(text), (), text.encode("utf-32-le"))


def small_structure():
    return structure({"type": "dict", "items": [["w", {"type": "ndarray", "array": "a0"}]]})


def write_mt(path, root, **arrays):
    """A well-formed archive holding `root` as its structure (possibly a malformed one)."""
    text = json.dumps({"format": FORMAT, "root": root})
    np.savez(path, structure=np.array(text), **arrays)
    return path


def peak_bytes(call, *args):
    """(exception raised by call(*args), peak bytes traced while it ran)."""
    tracemalloc.start()
    try:
        call(*args)
    except Exception as exc:      # noqa: BLE001 - the test asserts the type
        error = exc
    else:
        error = None
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return error, peak


def load_error(path):
    with pytest.raises(SerializationError) as info:
        mt.load(path)
    assert isinstance(info.value, RuntimeError)       # documented: a RuntimeError, as torch.load's
    assert "allow_pickle" not in str(info.value)
    return str(info.value)


def checkpoint_error(path):
    with pytest.raises(CheckpointError) as info:
        read_checkpoint(str(path))
    assert "allow_pickle" not in str(info.value) and "does not exist" not in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------- array headers and sizes

def test_a_header_claiming_10_to_the_12_elements_is_refused_without_allocating(tmp_path):
    path = raw_zip(tmp_path / "huge.npz", [{"name": "structure.npy", "data": small_structure()},
                                            {"name": "a0.npy", "data": npy("<f8", (10**12,), b"\0" * 64)}])
    error, peak = peak_bytes(mt.load, path)
    assert isinstance(error, SerializationError), error
    assert "'a0'" in str(error) and "(1000000000000,)" in str(error) and "header declares" in str(error)
    assert peak < 4 * MB
    ckpt = raw_zip(tmp_path / "huge_ckpt.npz", [{"name": "meta.npy", "data": meta()},
                                                 {"name": "model/fc.weight.npy", "data": npy("<f4", (10**6, 10**6))}])
    error, peak = peak_bytes(read_checkpoint, str(ckpt))
    assert isinstance(error, CheckpointError) and "'model/fc.weight'" in str(error) and peak < 4 * MB


def test_a_zip_entry_claiming_more_than_its_compression_can_give_is_refused(tmp_path):
    stored = npy("<f8", (2**28,))               # header says 2 GiB, the entry stores only the header
    path = raw_zip(tmp_path / "lying.npz", [{"name": "structure.npy", "data": small_structure()},
                                             {"name": "a0.npy", "data": stored, "usize": len(stored) + 8 * 2**28}])
    error, peak = peak_bytes(mt.load, path)
    assert isinstance(error, SerializationError) and "'a0.npy'" in str(error) and "storing can give" in str(error)
    body = deflated(stored)
    path = raw_zip(tmp_path / "lying_deflate.npz", [
        {"name": "structure.npy", "data": small_structure()},
        {"name": "a0.npy", "data": body, "method": zipfile.ZIP_DEFLATED, "usize": len(stored) + 8 * 2**28}])
    error, peak = peak_bytes(mt.load, path)
    assert isinstance(error, SerializationError) and "deflate can give" in str(error) and peak < 4 * MB


def zero_bomb(header, total):
    """A deflate stream of `header` followed by `total` zero bytes (about total/1000 long), made
    from one repeated flushed block so that building it is instant."""
    compressor, zeros = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(MB)
    first = compressor.compress(header + zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + block * (total // MB - 1) + compressor.flush()


def test_a_member_inflating_past_its_header_is_refused_without_inflating_it_all(tmp_path):
    header = npy("|u1", (10,))
    body = zero_bomb(header, 400 * MB)
    assert len(body) < MB                                   # 0.4 MB that inflates to 400 MB
    path = raw_zip(tmp_path / "bomb.npz", [
        {"name": "structure.npy", "data": small_structure()},
        {"name": "a0.npy", "data": body, "method": zipfile.ZIP_DEFLATED, "usize": len(header) + 10}])
    error, peak = peak_bytes(mt.load, path)
    assert isinstance(error, SerializationError), error
    assert "'a0.npy' inflates beyond the" in str(error)
    assert peak < 8 * MB                                    # one 1 MiB chunk at a time, not 400 MB


def test_headers_are_all_checked_before_any_member_is_inflated(tmp_path):
    big = npy("|u1", (64 * MB,))
    good = zero_bomb(big, 64 * MB)
    path = raw_zip(tmp_path / "late_bad.npz", [
        {"name": "structure.npy", "data": small_structure()},
        {"name": "a0.npy", "data": good, "method": zipfile.ZIP_DEFLATED, "usize": len(big) + 64 * MB},
        {"name": "a1.npy", "data": npy("|O", (1,), b"\0" * 8)}])
    error, peak = peak_bytes(mt.load, path)
    assert isinstance(error, SerializationError) and "'a1' has dtype object" in str(error)
    assert peak < 4 * MB                                    # a0's 64 MB never inflated
    crc = zlib.crc32(bytes(MB), zlib.crc32(big))
    for _ in range(63):
        crc = zlib.crc32(bytes(MB), crc)
    path = raw_zip(tmp_path / "ok.npz", [
        {"name": "structure.npy", "data": small_structure()},
        {"name": "a0.npy", "data": good, "method": zipfile.ZIP_DEFLATED, "usize": len(big) + 64 * MB, "crc": crc}])
    loaded = mt.load(path)                                  # the same member, honest, loads
    assert loaded["w"].shape == (64 * MB,) and not loaded["w"][::MB].any()


@pytest.mark.parametrize("descr, what", [
    ("|O", "dtype object"), ([("a", "<f4"), ("b", "<i4")], "structured dtype"),
    (("<f4", (2,)), "structured dtype"), ("<U3", "only numbers and bools"), ("<M8[s]", "only numbers")])
def test_object_structured_and_text_dtypes_are_refused(tmp_path, descr, what):
    dtype = np.lib.format.descr_to_dtype(descr)
    path = raw_zip(tmp_path / "dtype.npz", [{"name": "structure.npy", "data": small_structure()},
                                             {"name": "a0.npy", "data": npy(descr, (2,), b"\0" * 2 * dtype.itemsize)}])
    assert "'a0'" in load_error(path) and what in load_error(path)
    ckpt = raw_zip(tmp_path / "dtype_ckpt.npz", [{"name": "meta.npy", "data": meta()}, {
        "name": "model/conv1.weight.npy", "data": npy(descr, (2,), b"\0" * 2 * dtype.itemsize)}])
    assert "'model/conv1.weight'" in checkpoint_error(ckpt) and what in checkpoint_error(ckpt)


@pytest.mark.parametrize("case, message", [
    ("truncated data", "'a0.npy' holds 152 bytes, its header declares 160"),
    ("bad crc", "'a0.npy' fails its CRC check"),
    ("garbage header", "'a0.npy' has no readable .npy header"),
    ("overlap", "overlap"),
    ("bzip2", "compression method 12"),
    ("not npy", "'notes.txt' is not an .npy array"),
    ("twice", "'a0.npy' appears twice"),
    ("no structure", "has no 'structure' member"),
    ("negative shape", "negative shape"),
])
def test_damaged_members_are_named(tmp_path, case, message):
    data = npy("<f8", (4,), b"\0" * 32)
    a0 = {"name": "a0.npy", "data": data}
    entries = {
        "truncated data": [dict(a0, data=deflated(data[:-8]), method=zipfile.ZIP_DEFLATED, usize=len(data))],
        "bad crc": [dict(a0, crc=12345)],
        "garbage header": [dict(a0, data=b"\x93NUMPY\x01\x00\x10\x00{'descr': ((((\n")],
        "overlap": [a0, {"name": "a1.npy", "data": data, "offset": 1}],
        "bzip2": [dict(a0, method=12)],
        "not npy": [{"name": "notes.txt", "data": b"hello"}],
        "twice": [a0, a0],
        "no structure": "skip",
        "negative shape": [dict(a0, data=npy("<f8", (-4,)))],
    }[case]
    members = [] if entries == "skip" else [{"name": "structure.npy", "data": small_structure()}] + entries
    if case == "no structure":
        members = [a0]
    path = raw_zip(tmp_path / "damaged.npz", members)
    assert message in load_error(path)


# ---------------------------------------------------------------- what the file is

def test_files_that_are_no_archive_are_named_for_what_they_are(tmp_path):
    good = tmp_path / "good.mt"
    mt.save({"w": mt.ones(2)}, good)
    flipped = tmp_path / "flipped.mt"
    flipped.write_bytes(b"PK\x03\x05" + good.read_bytes()[4:])
    assert "damaged zip archive: it starts with b'PK\\x03\\x05'" in load_error(flipped)
    plain = tmp_path / "plain.npy"
    np.save(plain, np.ones(3))
    assert "is a single NumPy array (.npy), not an .npz archive" in load_error(plain)
    text = tmp_path / "notes.txt"
    text.write_text("epoch 1: loss 0.3\n")
    link = tmp_path / "link.mt"
    link.symlink_to(text)
    assert "is a text file, not a zip (.npz) archive (it starts 'epoch 1: loss 0.3\\n')" in load_error(link)
    assert "is a folder, not a file" in load_error(tmp_path)
    dangling = tmp_path / "dangling.mt"
    dangling.symlink_to(tmp_path / "gone")
    assert "is a symbolic link to" in load_error(dangling) and "which does not exist" in load_error(dangling)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)                                   # must be refused, not block on open or read
    assert "is a named pipe (FIFO), not a file" in load_error(fifo)
    (tmp_path / "empty.mt").write_bytes(b"")
    assert "is empty (0 bytes)" in load_error(tmp_path / "empty.mt")
    with pytest.raises(FileNotFoundError, match="load: no such file"):
        mt.load(tmp_path / "missing.mt")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero on this system")
def test_dev_zero_is_a_character_device_for_load_and_checkpoints():
    assert "is a character device, not a file" in load_error("/dev/zero")
    assert "is a character device, not a file" in checkpoint_error("/dev/zero")


def test_checkpoints_say_what_the_file_is(tmp_path):
    plain = tmp_path / "plain.npy"
    np.save(plain, np.ones(3))
    assert "is a single NumPy array (.npy)" in checkpoint_error(plain)
    assert "is a folder, not a file" in checkpoint_error(tmp_path)
    good = save_checkpoint(str(tmp_path / "good.npz"), models.LeNet5())
    flipped = tmp_path / "flipped.npz"
    flipped.write_bytes(b"QK" + open(good, "rb").read()[2:])
    assert "damaged zip archive" in checkpoint_error(flipped)
    with pytest.raises(CheckpointError, match="missing.npz does not exist"):
        read_checkpoint(str(tmp_path / "missing.npz"))


# ---------------------------------------------------------------- JSON nesting and structure

def test_json_nested_100000_deep_is_refused_quickly(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep_s.npz"
    np.savez(path, structure=np.array('{"format": "%s", "root": %s}' % (FORMAT, deep)))
    assert "member 'structure' nests 100,001 levels deep" in load_error(path)
    ckpt = tmp_path / "deep.npz"
    np.savez(ckpt, meta=np.array('{"format": "minitorch_cnn.checkpoint/1", "x": %s}' % deep))
    assert "member 'meta' nests 100,001 levels deep" in checkpoint_error(ckpt)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert archive.json_depth('{"a": "[[[[\\"{{{{", "b": [1, {"c": "]]]"}]}') == 3


@pytest.mark.parametrize("root, arrays, message", [
    ({"type": "tensorr"}, {}, "entry obj has the unknown type 'tensorr'"),
    ({"type": "tensor"}, {}, "entry obj needs an array member's name as 'array', found None"),
    ({"type": "tensor", "array": "a9", "requires_grad": False}, {}, "refers to the array member 'a9.npy'"),
    ({"type": "tensor", "array": "a0", "requires_grad": "yes"}, {"a0": np.ones(2)}, "as 'requires_grad'"),
    ({"type": "tensor", "array": "a0", "requires_grad": True}, {"a0": np.arange(2)}, "has dtype int64"),
    ({"type": "tensor", "array": "a0", "requires_grad": False, "device": "tpu"}, {"a0": np.ones(2)}, "'tpu'"),
    ({"type": "tensor", "array": ["a0"], "requires_grad": False}, {}, "found ['a0']"),
    ({"type": "dict", "items": 5}, {}, "entry obj needs a list as 'items', found 5"),
    ({"type": "dict", "items": [["k"]]}, {}, "entry obj item 0 must be a [key, value] pair"),
    ({"type": "dict", "items": [[{"type": "list", "items": []}, 1]]}, {}, "entry obj key 0 is a list"),
    ({"type": "dict", "items": [["w", {"type": "float", "value": "x"}]]}, {}, "entry obj['w'] holds the float 'x'"),
    ({"type": "list", "items": [1, [2]]}, {}, "entry obj[1] is a JSON list, not an entry"),
    ({"type": "numpy_scalar", "array": "a0"}, {"a0": np.ones(2)}, "has shape (2,)"),
    ({"type": "ndarray", "array": "structure"}, {}, "'structure.npy', which the file does not hold"),
])
def test_malformed_structures_name_the_entry(tmp_path, root, arrays, message):
    path = write_mt(tmp_path / "bad.npz", root, **arrays)
    assert message in load_error(path)


def test_missing_root_and_nesting_past_the_cap(tmp_path):
    np.savez(tmp_path / "noroot.npz", structure=np.array(json.dumps({"format": FORMAT})))
    assert "has no 'root' entry" in load_error(tmp_path / "noroot.npz")
    node = 1
    for _ in range(MAX_NESTING + 1):
        node = {"type": "list", "items": [node]}
    path = write_mt(tmp_path / "deep_s.npz", node)
    assert f"nests containers more than {MAX_NESTING} deep" in load_error(path)


def test_checkpoint_member_names_are_checked(tmp_path):
    for name in ("optimizer/x/exp_avg", "optimizer/0", "optimizer/01/step", "weights", "model/"):
        path = tmp_path / "names.npz"
        np.savez(path, meta=np.array(json.dumps({"format": "minitorch_cnn.checkpoint/1"})), **{name: np.ones(2)})
        assert f"member {name + '.npy'!r} is none of model/<key>" in checkpoint_error(path)
    path = tmp_path / "ok.npz"
    np.savez(path, meta=np.array(json.dumps({"format": "minitorch_cnn.checkpoint/1"})),
             **{"model/fc.weight": np.ones(2), "optimizer/12/exp_avg": np.ones(2), "optimizer/12/step": np.float32(3)})
    model_state, optimizer_state, _ = read_checkpoint(str(path))
    assert list(model_state) == ["fc.weight"] and optimizer_state[12]["step"] == 3.0


# ---------------------------------------------------------------- save: cycles and depth

def test_save_refuses_cycles_and_excess_nesting_clearly(tmp_path):
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match=r"save: obj\[1\] is obj itself \(a cycle\)"):
        mt.save(loop, tmp_path / "loop")
    d = {"a": {}}
    d["a"]["back"] = d
    with pytest.raises(ValueError, match=r"save: obj\['a'\]\['back'\] is obj itself"):
        mt.save(d, tmp_path / "loop")
    deep = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ValueError, match=f"nested more than {MAX_NESTING} containers deep"):
        mt.save(deep, tmp_path / "deep")
    assert not (tmp_path / "loop").exists() and not (tmp_path / "deep").exists()
    shared = [1, 2]
    mt.save({"x": shared, "y": (shared, shared)}, tmp_path / "dag")   # shared, not cyclic: fine
    assert mt.load(tmp_path / "dag") == {"x": [1, 2], "y": ([1, 2], [1, 2])}


# ---------------------------------------------------------------- random damage: one error type only

def _damaged(base, rng):
    data = bytearray(base)
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        i = rng.randrange(len(data))
        data[i] = rng.randrange(256) if rng.random() < 0.7 else data[i] ^ (1 << rng.randrange(8))
    return bytes(data[:rng.randrange(len(data))] if rng.random() < 0.1 else data)


def test_randomly_damaged_files_raise_only_the_documented_errors(tmp_path):
    buffer = io.BytesIO()
    mt.save({"w": mt.ones(3, 2), "x": [1, 2.5, (3, None)], "n": np.arange(4)}, buffer)
    stored, deflate = buffer.getvalue(), io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(stored)) as source, zipfile.ZipFile(deflate, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            out.writestr(name, source.read(name))
    checkpoint = open(save_checkpoint(str(tmp_path / "c.npz"), models.LeNet5(), meta={"epoch": 1}), "rb").read()
    rng = random.Random(22)
    for _ in range(300):
        for base in (stored, deflate.getvalue()):
            try:
                mt.load(io.BytesIO(_damaged(base, rng)))
            except SerializationError:
                pass
        (tmp_path / "d.npz").write_bytes(_damaged(checkpoint, rng))
        try:
            read_checkpoint(str(tmp_path / "d.npz"))
        except CheckpointError:
            pass


def test_randomly_rewritten_structures_raise_only_the_documented_error(tmp_path):
    buffer = io.BytesIO()
    mt.save({"w": mt.ones(3, 2, requires_grad=True), "p": mt.nn.Parameter(mt.zeros(2)), "x": [1, 2.5, (3, None)],
             "n": np.arange(4), "s": np.float32(2), 7: "k"}, buffer)
    buffer.seek(0)
    with np.load(buffer) as data:
        arrays = {k: data[k] for k in data.files}
    base = json.loads(str(arrays.pop("structure")))
    values = [None, 5, -1, 2.5, "x", "a0", "a9", "structure", True, [], {}, [[]], [1, 2], {"type": "list"},
              {"type": "float", "value": 3}, {"type": "tensor", "array": "a1", "requires_grad": True},
              {"type": "dict", "items": [[1, 2, 3]]}, {"type": "numpy_scalar", "array": "a0"}, "cpu"]

    def slots(node, out):
        for k in (node if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else ()):
            out.append((node, k))
            slots(node[k], out)
        return out

    rng = random.Random(22)
    for _ in range(300):
        root = copy.deepcopy(base)
        for _ in range(rng.choice([1, 2])):
            node, key = rng.choice(slots(root, []))
            node[key] = copy.deepcopy(rng.choice(values))
        file = io.BytesIO()
        np.savez(file, structure=np.array(json.dumps(root)), **arrays)
        file.seek(0)
        try:
            mt.load(file)
        except SerializationError:
            pass


def test_resume_says_what_a_folder_or_device_is_rather_than_that_it_does_not_exist(tmp_path, capsys):
    from minitorch_cnn import train
    for target, what in ((tmp_path, "it is a folder, not a file"), ("/dev/zero", "it is a character device")):
        if not os.path.exists(target):
            continue
        assert train.main(["--resume", str(target)]) == 2
        err = capsys.readouterr().err
        assert what in err and "does not exist" not in err and err.count("\n") == 1
    assert train.main(["--resume", str(tmp_path / "missing.npz")]) == 2
    assert "does not exist" in capsys.readouterr().err
