"""What data a run trains on, kept in its checkpoint, so that a resumed run follows its data.

Each checkpoint's meta holds ``data_fingerprint``: for each file the loader read (MNIST's four IDX
files, gzipped or not; the bundled mnist_5k.npz; a torchvision dataset's split) the shape, dtype and
SHA-256 of the values read from it: the decoded arrays, so the same data moved to another folder,
gzipped or unpacked, has the same fingerprint (hashing MNIST's 55 MB takes about 30 ms).

On --resume the data is read where the run is told (--data-dir NEW, or the checkpoint's folder) and
its fingerprint compared with the checkpoint's: the same data is accepted wherever it now lives,
other data is refused naming the file that differs, and a checkpoint's data folder that no longer
exists is said to be gone (pass --data-dir NEW) before anything is read or downloaded.

The meta key is optional (checkpoints written before it have none: their --data-dir cannot change,
as before) and is checked whole here (validate) before it is used.
"""
import hashlib
import math
import os

import numpy as np

from .errors import UsageError

KEY = "data_fingerprint"        # the checkpoint meta's key
VERSION = 1
ROLES = ("train images", "train labels", "test images", "test labels")
_DTYPES = ("uint8", "int8", "int16", "int32", "int64", "float32", "float64", "uint16", "uint32", "uint64",
           "float16", "bool")


# ---- computing -----------------------------------------------------------------------------------
def _split(dataset):
    """The dataset a Subset (--limit-*) takes its prefix of."""
    while hasattr(dataset, "dataset") and hasattr(dataset, "indices"):
        dataset = dataset.dataset
    return dataset


def _files(dataset):
    """(the images' file, the labels' file) the loader read `dataset` from, as text."""
    files = getattr(dataset, "files", None)
    if files and len(files) == 2:
        return tuple(os.path.abspath(str(f)) for f in files)
    if type(dataset).__name__ == "BundledDigits":
        from ..data.bundled import BUNDLED_PATH
        return (str(BUNDLED_PATH),) * 2
    name = getattr(dataset, "name", type(dataset).__name__)
    where = f"torchvision.datasets.{name} in {os.path.abspath(str(getattr(dataset, 'root', '.')))}"
    return where, where


def _digest(array):
    array = np.ascontiguousarray(array)
    return hashlib.sha256(memoryview(array).cast("B")).hexdigest()


def compute(train_set, test_set, data_dir, data_name):
    """The fingerprint of a run's two splits (see the module docstring), or None for a dataset that
    holds no arrays (no CLI dataset does)."""
    parts = []
    for split, dataset in (("train", train_set), ("test", test_set)):
        dataset = _split(dataset)
        arrays = (getattr(dataset, "data", None), getattr(dataset, "targets", None))
        if any(not isinstance(a, np.ndarray) for a in arrays):
            return None
        for kind, array, file in zip(("images", "labels"), arrays, _files(dataset)):
            parts.append({"role": f"{split} {kind}", "file": file, "shape": list(array.shape),
                          "dtype": array.dtype.name, "sha256": _digest(array)})
    bundled = type(_split(train_set)).__name__ == "BundledDigits"
    return {"version": VERSION, "data": str(data_name),
            "folder": None if bundled else os.path.abspath(data_dir or "data"), "parts": parts}


# ---- checking a checkpoint's -------------------------------------------------------------------
def validate(value, path):
    """Refuse (UsageError, one line naming the field and the file) a meta["data_fingerprint"] that is
    not what compute() writes; None (absent) is fine."""
    if value is None:
        return

    def refuse(field, what):
        raise UsageError(f"--resume: checkpoint {path}: meta.{KEY}{field} {what}")
    if not isinstance(value, dict):
        refuse("", f"is a JSON {type(value).__name__}, expected an object")
    if set(value) != {"version", "data", "folder", "parts"}:
        refuse("", f"has keys {sorted(value)}, expected ['data', 'folder', 'parts', 'version']")
    if value["version"] != VERSION or isinstance(value["version"], bool):
        refuse(".version", f"is {value['version']!r}, expected {VERSION}")
    if not isinstance(value["data"], str):
        refuse(".data", f"is a {type(value['data']).__name__}, expected a string")
    if value["folder"] is not None and not isinstance(value["folder"], str):
        refuse(".folder", f"is a {type(value['folder']).__name__}, expected a string or null")
    parts = value["parts"]
    if not isinstance(parts, list) or [p.get("role") if isinstance(p, dict) else None for p in parts] != list(ROLES):
        refuse(".parts", f"is not the list of the four parts {', '.join(ROLES)}")
    for i, part in enumerate(parts):
        field = f".parts[{i}]"
        if set(part) != {"role", "file", "shape", "dtype", "sha256"}:
            refuse(field, f"has keys {sorted(part)}, expected ['dtype', 'file', 'role', 'sha256', 'shape']")
        if not isinstance(part["file"], str):
            refuse(f"{field}.file", f"is a {type(part['file']).__name__}, expected a string")
        shape = part["shape"]
        if (not isinstance(shape, list) or not 1 <= len(shape) <= 8
                or any(not isinstance(n, int) or isinstance(n, bool) or not 0 <= n < 2 ** 40 for n in shape)):
            refuse(f"{field}.shape", f"is {shape!r}, expected a list of 1 to 8 sizes >= 0")
        if part["dtype"] not in _DTYPES:
            refuse(f"{field}.dtype", f"is {part['dtype']!r}, expected one of {', '.join(_DTYPES)}")
        digest = part["sha256"]
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            refuse(f"{field}.sha256", f"is {digest!r}, expected 64 lowercase hex digits")


def saved(meta, path):
    """The checkpoint's fingerprint, checked (validate), or None when it has none."""
    value = meta.get(KEY) if isinstance(meta, dict) else None
    validate(value, path)
    return value


def follows_data(meta, path):
    """Whether --resume may take another --data-dir: the checkpoint says what its data is."""
    return saved(meta, path) is not None


def _where(args):
    """The data folder of this resume, as the user would name it."""
    if "data_dir" in args.given:
        return f"--data-dir {args.data_dir}"
    if args.data_dir is not None:
        return f"the checkpoint's data folder {args.data_dir} (meta.args.data_dir)"
    return "the default data folder ./data"


def check_data_dir(args, meta):
    """Before any data is read on --resume: the saved fingerprint on args.saved_data; refuse a data
    folder of the checkpoint's (not one given) that no longer exists, suggesting --data-dir NEW."""
    args.saved_data = saved(meta, args.resume)
    if "data_dir" in args.given:
        return
    fingerprint = args.saved_data
    if args.data_dir is not None:
        folder = args.data_dir
    elif fingerprint is not None and fingerprint["folder"] is not None:
        folder = "data"         # the default ./data: it matters when the run read its files there
    else:
        return
    if os.path.isdir(folder):
        return
    was = "" if fingerprint is None or fingerprint["folder"] is None or \
        fingerprint["folder"] == os.path.abspath(folder) else f" (the run read it as {fingerprint['folder']})"
    follow = ("it is accepted when its files hold the same data" if fingerprint is not None else
              "this checkpoint carries no fingerprint of its data, so only the same folder can be used")
    raise UsageError(f"--resume: {_where(args)}{was} does not exist or is not a folder: if the data moved, "
                     f"pass --data-dir NEW ({follow})")


def follow(args, train_set, test_set, data_name):
    """The fingerprint of the data just read (for the checkpoints); on --resume, refuse data that is
    not the checkpoint's (UsageError naming the first file that differs)."""
    fingerprint = compute(train_set, test_set, args.data_dir, data_name)
    saved_data = getattr(args, "saved_data", None)
    if args.resume is None or saved_data is None or fingerprint is None:
        return fingerprint
    where = _where(args)
    advice = ("pass the --data-dir that holds the run's data, or leave --data-dir out" if "data_dir" in args.given
              else "pass --data-dir with the folder that holds the run's data")
    differ = [(old, new) for old, new in zip(saved_data["parts"], fingerprint["parts"])
              if old["sha256"] != new["sha256"] or old["shape"] != new["shape"] or old["dtype"] != new["dtype"]]
    if not differ:
        return fingerprint
    if saved_data["data"] != fingerprint["data"]:       # --dataset auto chose other data here
        raise UsageError(f"--resume: {where} gives {fingerprint['data']} ({fingerprint['parts'][0]['file']}), not "
                         f"the {saved_data['data']} the run trained on ({saved_data['parts'][0]['file']}); {advice}")
    old, new = differ[0]
    more = f" (and {len(differ) - 1} more of the run's {len(ROLES)} parts differ)" if len(differ) > 1 else ""
    raise UsageError(f"--resume: {where}: {new['file']} ({new['role']}: {_describe(new)}) is not the data the run "
                     f"trained on, {old['file']} ({_describe(old)}){more}; {advice}")


def _describe(part):
    count = part["shape"][0] if part["shape"] else 1
    size = math.prod(part["shape"][1:])
    what = f"{count:,} {part['role'].split()[1]}"
    if size > 1:
        what += " of " + "x".join(map(str, part["shape"][1:]))
    return f"{what} {part['dtype']}, sha256 {part['sha256'][:12]}"
