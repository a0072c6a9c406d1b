"""mt.save(obj, path) and mt.load(path): tensors and nested containers of them, never a pickle.

The file is a NumPy .npz archive: each tensor or array is one entry (`a0`, `a1`, ...), and
one JSON entry, `structure`, describes how they nest:

    {"format": "minitorch_cnn.save/1", "root": {"type": "ordered_dict", "items": [
        ["conv.weight", {"type": "tensor", "array": "a0", "requires_grad": false,
                         "device": "cpu"}], ...]}}

So `model.load_state_dict(mt.load(path))` works as in torch, and loading runs no code: the
arrays are read as plain .npy data (no pickle) and `json` reads the structure.  What can be
saved: Tensors (and Parameters), NumPy arrays and scalars, Python numbers, bools, strings and
None, and dicts, OrderedDicts, lists and tuples of these.  A tensor saved twice in one object
comes back as one tensor, as in torch, and on the device it was saved from unless
`map_location` says otherwise (files without "device" load on the CPU).  save and load take
torch.save's and torch.load's parameters (`python -m minitorch_cnn.as_torch` runs torch.save
as this save).  Writes are atomic (a temporary file, then a rename).  A container that holds
itself, or containers nested more than MAX_NESTING deep, are refused on save (ValueError).

Loading trusts nothing in the file: a file that is not a well-formed mt.save file raises
SerializationError (a RuntimeError) naming what the file is, or the member or entry at fault,
never NumPy's or json's own errors; headers are checked before any array is inflated and no
member inflates past its header's size (minitorch_cnn/archive.py), so a hostile file costs
memory in proportion to its own size at most.
"""
import io
import json
import numbers
import os
import pickle
import tempfile
from collections import OrderedDict

import numpy as np

from . import archive, backend
from .tensor import Tensor

FORMAT = "minitorch_cnn.save/1"


def atomic_write(path, write):
    """write(file) into a temporary file beside `path`, then rename it over `path`: an
    interrupted write never leaves a half-written file behind."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # .tmp-<PID>-...: the training CLI removes those whose writer is no longer running (runner.py)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".tmp-{os.getpid()}-", suffix=os.path.splitext(str(path))[1])
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)       # mkstemp makes 0600; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


class SerializationError(RuntimeError):
    """mt.load's error for a file that is not a well-formed mt.save file: damaged, hostile, or
    something else altogether.  The message names the file and says what it is, or names the
    member (`a3.npy`) or entry (`obj['conv.weight']`) at fault.  A RuntimeError, as torch.load's
    errors are; a path with nothing there raises FileNotFoundError instead."""


MAX_NESTING = 100      # containers inside containers, on save and on load


class _Encoder:
    def __init__(self):
        self.arrays, self.memo, self.open = {}, {}, {}

    def array(self, value):
        key = f"a{len(self.arrays)}"
        array = np.asarray(backend.to_numpy(value))
        if array.dtype.kind not in "biufc":
            raise TypeError(f"save: cannot save an array of dtype {array.dtype} (numbers and bools only)")
        self.arrays[key] = array
        return key

    def encode(self, obj, path):
        if isinstance(obj, Tensor):
            if id(obj) not in self.memo:    # the same tensor twice: stored once
                self.memo[id(obj)] = (obj, self.array(obj.array))
            kind = "parameter" if type(obj).__name__ == "Parameter" else "tensor"
            return {"type": kind, "array": self.memo[id(obj)][1], "requires_grad": bool(obj.requires_grad),
                    "device": backend.device_of(obj.array)}
        if isinstance(obj, np.ndarray):
            return {"type": "ndarray", "array": self.array(obj)}
        if isinstance(obj, np.generic):
            return {"type": "numpy_scalar", "array": self.array(obj)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, float):
            # JSON has no NaN/inf; repr round-trips every float exactly
            return {"type": "float", "value": repr(obj)}
        if isinstance(obj, (dict, list, tuple)):
            if id(obj) in self.open:
                raise ValueError(f"save: {path} is {self.open[id(obj)]} itself (a cycle); mt.save "
                                 f"stores trees of containers, not containers that hold themselves")
            if len(self.open) >= MAX_NESTING:
                raise ValueError(f"save: {path} is nested more than {MAX_NESTING} containers deep")
            self.open[id(obj)] = path
            try:
                return self.container(obj, path)
            finally:
                del self.open[id(obj)]
        raise TypeError(f"save: cannot save a {type(obj).__name__} (at {path}); mt.save stores tensors, "
                        f"arrays, numbers, strings, None and dicts/lists/tuples of them; for a model "
                        f"save model.state_dict()")

    def container(self, obj, path):
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (str, bool, int, float))):
                    raise TypeError(f"save: dict keys must be str, int, float, bool or None, got "
                                    f"{type(key).__name__} at {path}")
                items.append([self.encode(key, path), self.encode(value, f"{path}[{key!r}]")])
            return {"type": "ordered_dict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        return {"type": type(obj).__name__ if type(obj) in (list, tuple) else "list",
                "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save `obj` (a state_dict, or any nesting of tensors/arrays/numbers) to path or file `f`.

    torch.save's signature: `pickle_module` must stay the default (nothing here is pickled);
    `pickle_protocol` and the two private flags are accepted and change nothing in this format.
    """
    if pickle_module is not pickle:
        raise ValueError("save: this format is pickle-free, so pickle_module cannot be set "
                         f"(got {pickle_module!r}); a pickled file needs real PyTorch")
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    structure = json.dumps({"format": FORMAT, "root": root})

    def write(file):
        np.savez(file, structure=np.array(structure), **encoder.arrays)

    if hasattr(f, "write"):
        write(f)
        return
    if not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"save: expected a path or a writable file, got {type(f).__name__}")
    atomic_write(f, write)


def _target_device(map_location, saved):
    """Where a tensor saved on device `saved` ('cpu' or 'cuda') loads, as torch.load maps it:
    None keeps `saved`; a device or its name moves every tensor there; a dict maps saved
    locations ('cpu', 'cuda:0') to others."""
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        location = "cuda:0" if saved == "cuda" else saved
        target = map_location.get(location, map_location.get(saved, saved))
        return backend.normalize_device(target)
    if callable(map_location) and not isinstance(map_location, str) and not hasattr(map_location, "type"):
        raise TypeError("load: map_location as a function works on torch's storages, which this engine "
                        "does not have; give a device, a device name or a dict of them")
    return backend.normalize_device(map_location)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what mt.save wrote, with torch.load's signature.

    Tensors go back to the device they were saved from, or as `map_location` says (a
    device, 'cpu' / 'cuda', or a dict such as {'cuda:0': 'cpu'}).  `weights_only` may be
    anything: this format can hold nothing but data, so loading runs no code either way.
    `pickle_module`, `mmap=True` and other keyword arguments (pickle's) are refused.
    A file that is not a well-formed mt.save file raises SerializationError (a RuntimeError)
    naming what it is or the member or entry at fault, in memory bounded by the file's size:
    array headers are checked before anything is inflated (see minitorch_cnn/archive.py).
    """
    if pickle_module is not None or pickle_load_args:
        extra = ", ".join(["pickle_module"] * (pickle_module is not None) + sorted(pickle_load_args))
        raise ValueError(f"load: this format is pickle-free, so {extra} cannot be given; "
                         f"a pickled file needs real PyTorch")
    if mmap:
        raise ValueError("load: mmap=True is not supported (the arrays are read into memory)")
    _target_device(map_location, "cpu")        # an unknown device fails before the file is read
    if not hasattr(f, "read") and not isinstance(f, (str, os.PathLike)):
        raise TypeError(f"load: expected a path or a readable file, got {type(f).__name__}")
    try:
        if hasattr(f, "read"):
            content = f.read()
            if not isinstance(content, (bytes, bytearray)):
                raise archive.ArchiveError(f"it is a file opened in text mode (read() gave "
                                           f"{type(content).__name__}); open it with 'rb'")
            arrays, meta = archive.read_npz(io.BytesIO(content), "structure")
        else:
            try:
                file = archive.open_regular(f)
            except FileNotFoundError:
                raise FileNotFoundError(f"load: no such file: {f!r}") from None
            with file:
                arrays, meta = archive.read_npz(file, "structure")
    except archive.ArchiveError as exc:
        raise SerializationError(f"load: {f!r} is not a file written by mt.save: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise SerializationError(f"load: {f!r} has format "
                                 f"{meta.get('format') if isinstance(meta, dict) else None!r}, expected {FORMAT!r}")
    if "root" not in meta:
        raise SerializationError(f"load: {f!r}: its structure has no 'root' entry")
    return _Decoder(f, arrays, map_location).decode(meta["root"], "obj", 0)


class _Decoder:
    """The structure's JSON back into objects, every node checked (SerializationError naming
    the entry, as obj['conv.weight'], otherwise)."""

    KINDS = ("tensor", "parameter", "ndarray", "numpy_scalar", "float", "dict", "ordered_dict", "list", "tuple")

    def __init__(self, f, arrays, map_location):
        self.f, self.arrays, self.map_location, self.tensors = f, arrays, map_location, {}

    def fail(self, path, message):
        raise SerializationError(f"load: {self.f!r}: entry {path} {message}")

    def field(self, node, name, types, path, what):
        value = node.get(name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            self.fail(path, f"needs {what} as {name!r}, found {value!r}")
        return value

    def array(self, node, path):
        key = self.field(node, "array", (str,), path, "an array member's name")
        if key not in self.arrays:
            self.fail(path, f"refers to the array member {key + '.npy'!r}, which the file does not hold")
        return key, self.arrays[key]

    def decode(self, node, path, depth):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if not isinstance(node, dict):
            self.fail(path, f"is a JSON {type(node).__name__}, not an entry")
        kind = node.get("type")
        if kind not in self.KINDS:
            self.fail(path, f"has the unknown type {kind!r}")
        if kind in ("tensor", "parameter"):
            return self.tensor(node, kind, path)
        if kind == "ndarray":
            return self.array(node, path)[1]
        if kind == "numpy_scalar":
            key, value = self.array(node, path)
            if value.ndim != 0:
                self.fail(path, f"is a NumPy scalar, but its array {key + '.npy'!r} has shape {value.shape}")
            return value[()]
        if kind == "float":
            try:
                return float(self.field(node, "value", (str,), path, "a float's repr"))
            except ValueError:
                self.fail(path, f"holds the float {node['value']!r}, which is not a number")
        items = self.field(node, "items", (list,), path, "a list")
        if depth >= MAX_NESTING:
            self.fail(path, f"nests containers more than {MAX_NESTING} deep")
        if kind in ("list", "tuple"):
            values = [self.decode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(items)]
            return values if kind == "list" else tuple(values)
        pairs = []
        for i, item in enumerate(items):
            if not (isinstance(item, list) and len(item) == 2):
                self.fail(f"{path} item {i}", f"must be a [key, value] pair, found {item!r:.80}")
            key = self.decode(item[0], f"{path} key {i}", depth + 1)
            if not (key is None or isinstance(key, (str, bool, int, float))):
                self.fail(f"{path} key {i}", f"is a {type(key).__name__}; dict keys are str, int, float, "
                                             f"bool or None")
            pairs.append((key, self.decode(item[1], f"{path}[{key!r}]", depth + 1)))
        return OrderedDict(pairs) if kind == "ordered_dict" else dict(pairs)

    def tensor(self, node, kind, path):
        key, value = self.array(node, path)
        requires_grad = self.field(node, "requires_grad", (bool,), path, "true or false")
        saved = node.get("device", "cpu")
        if saved not in ("cpu", "cuda"):
            self.fail(path, f"was saved on the device {saved!r}; expected 'cpu' or 'cuda'")
        if requires_grad and value.dtype.kind not in "fc":
            self.fail(path, f"requires grad, but its array {key + '.npy'!r} has dtype {value.dtype}")
        if key not in self.tensors:
            t = Tensor(backend.to_device(value, _target_device(self.map_location, saved)))
            if kind == "parameter":
                from .nn.module import Parameter
                t = Parameter(t, requires_grad=requires_grad)
            else:
                t.requires_grad = requires_grad
            self.tensors[key] = t
        return self.tensors[key]
