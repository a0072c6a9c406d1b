"""Checkpoints as plain .npz files: arrays plus one JSON string, never a pickle.

    model/<state_dict key>              the model's parameters and buffers
    optimizer/<param index>/<name>      the optimizer's per-parameter arrays
    meta                                JSON: epoch, hyper-parameters, scheduler, RNG state, ...

Writes are atomic (a temporary file in the same folder, then a rename), so an
interrupted save never leaves a half-written checkpoint behind.
Reads trust nothing in the file (minitorch_cnn/archive.py): array headers are checked before
anything is inflated, no member inflates past its header, the meta's JSON nesting is capped, and
member names must be the three kinds above; every failure is one CheckpointError naming the
file and what it is, or the member at fault.
"""
import json
import re

import numpy as np

from . import archive, backend
from .serialization import atomic_write

FORMAT = "minitorch_cnn.checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or does not fit the model it is loaded into."""


def save_checkpoint(path, model, optimizer=None, meta=None):
    arrays = {f"model/{k}": backend.to_numpy(v.array) for k, v in model.state_dict().items()}
    meta = dict(meta or {}, format=FORMAT)
    if optimizer is not None:
        opt_state = optimizer.state_dict()
        for index, entries in opt_state["state"].items():
            for name, value in entries.items():
                # state entries are Tensors (torch's layout; 'step' a 0-d float32), possibly on a GPU
                arrays[f"optimizer/{index}/{name}"] = backend.to_numpy(getattr(value, "array", np.asarray(value)))
        meta["optimizer"] = {"class": type(optimizer).__name__, "param_groups": opt_state["param_groups"]}
    arrays["meta"] = np.array(json.dumps(meta))
    return atomic_write(path, lambda f: np.savez(f, **arrays))


def read_checkpoint(path):
    """-> (model_state, optimizer_state_entries, meta); CheckpointError on anything malformed.

    The file is read as minitorch_cnn.archive reads untrusted archives: array headers checked
    before anything is inflated, no member inflating past its header, the meta's JSON nesting
    capped; the message names the file and says what it is, or names the member at fault."""
    try:
        try:
            file = archive.open_regular(path)
        except FileNotFoundError:
            raise CheckpointError(f"checkpoint {path} does not exist") from None
        with file:
            arrays, meta = archive.read_npz(file, "meta")
    except archive.ArchiveError as exc:
        raise CheckpointError(f"checkpoint {path} is not a readable minitorch_cnn checkpoint: {exc}") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: its meta is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    model_state, optimizer_state = {}, {}
    for key, value in arrays.items():
        match = _MEMBER.fullmatch(key)
        if match is None:
            raise CheckpointError(f"checkpoint {path}: member {key + '.npy'!r} is none of model/<key>, "
                                  f"optimizer/<parameter index>/<name> and meta")
        if match["model"] is not None:
            model_state[match["model"]] = value
        else:
            entries = optimizer_state.setdefault(int(match["index"]), {})
            entries[match["name"]] = value.item() if value.ndim == 0 else value
    return model_state, optimizer_state, meta


_MEMBER = re.compile(r"model/(?P<model>[^/].*)|optimizer/(?P<index>0|[1-9][0-9]{0,8})/(?P<name>[A-Za-z_][A-Za-z0-9_]*)")


def load_checkpoint(path, model, optimizer=None):
    """Load a checkpoint into `model` (and `optimizer`); returns its meta dict."""
    model_state, optimizer_state, meta = read_checkpoint(path)
    try:
        model.load_state_dict(model_state)
    except (KeyError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"checkpoint {path} does not fit {type(model).__name__}: {exc}") from None
    if optimizer is not None:
        saved = meta.get("optimizer")
        if saved is None or saved["class"] != type(optimizer).__name__:
            raise CheckpointError(f"checkpoint {path} holds a {saved and saved['class']} optimizer state, "
                                  f"expected {type(optimizer).__name__}")
        try:
            optimizer.load_state_dict({"state": optimizer_state, "param_groups": saved["param_groups"]})
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path}: optimizer state does not fit: {exc}") from None
    return meta
