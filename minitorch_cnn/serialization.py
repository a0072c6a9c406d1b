"""mt.save(obj, path) and mt.load(path): tensors and nested containers of them, never a pickle.

The file is a NumPy .npz archive: each tensor or array is one entry (`a0`, `a1`, ...), and
one JSON entry, `structure`, describes how they nest:

    {"format": "minitorch_cnn.save/1", "root": {"type": "ordered_dict", "items": [
        ["conv.weight", {"type": "tensor", "array": "a0", "requires_grad": false,
                         "device": "cpu"}], ...]}}

So `model.load_state_dict(mt.load(path))` works as in torch, and loading runs no code:
`np.load(..., allow_pickle=False)` reads the arrays and `json` the structure.  What can be
saved: Tensors (and Parameters), NumPy arrays and scalars, Python numbers, bools, strings and
None, and dicts, OrderedDicts, lists and tuples of these.  A tensor saved twice in one object
comes back as one tensor, as in torch, and on the device it was saved from unless
`map_location` says otherwise (files without "device" load on the CPU).  save and load take
torch.save's and torch.load's parameters (`python -m minitorch_cnn.as_torch` runs torch.save
as this save).  Writes are atomic (a temporary file, then a rename).
"""
import io
import json
import numbers
import os
import pickle
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .tensor import Tensor

FORMAT = "minitorch_cnn.save/1"


def atomic_write(path, write):
    """write(file) into a temporary file beside `path`, then rename it over `path`: an
    interrupted write never leaves a half-written file behind."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.splitext(str(path))[1])
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)       # mkstemp makes 0600; the result is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


class _Encoder:
    def __init__(self):
        self.arrays, self.memo = {}, {}

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
        if isinstance(obj, dict):
            items = []
            for key, value in obj.items():
                if not (key is None or isinstance(key, (str, bool, int, float))):
                    raise TypeError(f"save: dict keys must be str, int, float, bool or None, got "
                                    f"{type(key).__name__} at {path}")
                items.append([self.encode(key, path), self.encode(value, f"{path}[{key!r}]")])
            return {"type": "ordered_dict" if isinstance(obj, OrderedDict) else "dict", "items": items}
        if isinstance(obj, (list, tuple)):
            return {"type": type(obj).__name__ if type(obj) in (list, tuple) else "list",
                    "items": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(obj)]}
        raise TypeError(f"save: cannot save a {type(obj).__name__} (at {path}); mt.save stores tensors, "
                        f"arrays, numbers, strings, None and dicts/lists/tuples of them; for a model "
                        f"save model.state_dict()")


def _is_torch_pickle(f):
    """Whether path or file f is a zip archive holding a data.pkl (real torch.save's format)."""
    try:
        if hasattr(f, "seek"):
            f.seek(0)
        with zipfile.ZipFile(f) as archive:
            return any(name.endswith("data.pkl") for name in archive.namelist())
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


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
    """
    if pickle_module is not None or pickle_load_args:
        extra = ", ".join(["pickle_module"] * (pickle_module is not None) + sorted(pickle_load_args))
        raise ValueError(f"load: this format is pickle-free, so {extra} cannot be given; "
                         f"a pickled file needs real PyTorch")
    if mmap:
        raise ValueError("load: mmap=True is not supported (the arrays are read into memory)")
    _target_device(map_location, "cpu")        # an unknown device fails before the file is read
    if not hasattr(f, "read"):
        if not isinstance(f, (str, os.PathLike)):
            raise TypeError(f"load: expected a path or a readable file, got {type(f).__name__}")
        if not os.path.isfile(f):
            raise FileNotFoundError(f"load: no such file: {f!r}")
    try:
        with np.load(f if not hasattr(f, "read") else io.BytesIO(f.read()), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("structure")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, json.JSONDecodeError) as exc:
        hint = ("; it looks like real PyTorch's pickled format, which this engine never reads"
                if "data.pkl" in str(exc) or _is_torch_pickle(f) else "")
        raise RuntimeError(f"load: {f!r} is not a file written by mt.save ({exc}){hint}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise RuntimeError(f"load: {f!r} has format {meta.get('format') if isinstance(meta, dict) else None!r}, "
                           f"expected {FORMAT!r}")
    tensors = {}

    def decode(node):
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind in ("tensor", "parameter"):
            key = node["array"]
            if key not in tensors:
                device = _target_device(map_location, node.get("device", "cpu"))
                t = Tensor(backend.to_device(arrays[key], device))
                if kind == "parameter":
                    from .nn.module import Parameter
                    t = Parameter(t, requires_grad=node["requires_grad"])
                else:
                    t.requires_grad = bool(node["requires_grad"])
                tensors[key] = t
            return tensors[key]
        if kind == "ndarray":
            return arrays[node["array"]]
        if kind == "numpy_scalar":
            return arrays[node["array"]][()]
        if kind == "float":
            return float(node["value"])
        if kind in ("dict", "ordered_dict"):
            pairs = [(decode(k), decode(v)) for k, v in node["items"]]
            return OrderedDict(pairs) if kind == "ordered_dict" else dict(pairs)
        if kind == "list":
            return [decode(v) for v in node["items"]]
        if kind == "tuple":
            return tuple(decode(v) for v in node["items"])
        raise RuntimeError(f"load: unknown entry type {kind!r} in {f!r}")

    return decode(meta["root"])
