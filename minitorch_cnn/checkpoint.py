"""Checkpoints as plain .npz files: arrays plus one JSON string, never a pickle.

    model/<state_dict key>              the model's parameters and buffers
    optimizer/<param index>/<name>      the optimizer's per-parameter arrays
    meta                                JSON: epoch, hyper-parameters, scheduler, RNG state, ...

Writes are atomic (a temporary file in the same folder, then a rename), so an
interrupted save never leaves a half-written checkpoint behind.
"""
import json
import os
import zipfile

import numpy as np

from . import backend
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
    """-> (model_state, optimizer_state_entries, meta); CheckpointError on anything malformed."""
    if not os.path.isfile(path):
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise CheckpointError(f"checkpoint {path} is not a readable minitorch_cnn checkpoint ({exc})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint {path}: its meta is a JSON {type(meta).__name__}, not an object")
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format')!r}, expected {FORMAT!r}")
    model_state = {k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}
    optimizer_state = {}
    for key, value in arrays.items():
        if key.startswith("optimizer/"):
            _, index, name = key.split("/", 2)
            optimizer_state.setdefault(int(index), {})[name] = value.item() if value.ndim == 0 else value
    return model_state, optimizer_state, meta


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
