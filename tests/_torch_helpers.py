"""PyTorch twins of minitorch_cnn's models, and moving weights between the two engines.

The torch classes below have the same class names, attribute names and module
tree as minitorch_cnn.models, so their state_dict keys and repr() lines can be
compared one for one.  Weights move as NumPy arrays:

    copy_weights(torch_model, mt_model)      torch -> minitorch (load_state_dict of torch tensors)
    copy_weights(mt_model, torch_model)      minitorch -> torch (torch.from_numpy of state_dict)

The models themselves are in tests/torch_models.py.  This module imports without torch (the
files that use it also hold torch-free tests); only the parity tests, marked @needs_torch,
call what needs it.
"""
import numpy as np
import pytest

import minitorch_cnn as mt

from _optional import torch


@pytest.fixture(scope="module", autouse=True)
def torch_single_thread():
    """Run torch on one thread in these modules (import the fixture into a test module to use it).

    The parity tests compare, they do not time: on a shared 2-core machine torch's idle OpenMP
    workers spin and starve both engines (a DeepCNN trajectory measured 10x slower).  The
    previous setting comes back when the module is done."""
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def torch_model(name):
    """A new PyTorch twin (tests/torch_models.py) of the minitorch model called `name`."""
    import torch_models
    return {**torch_models.TORCH_MODELS, **torch_models.MORE_TORCH_MODELS}[name]()


def set_dropout(model, p):
    """Set p of every Dropout layer of a minitorch or torch model (p=0 makes training deterministic)."""
    for m in model.modules():
        if type(m).__name__ == "Dropout":
            m.p = p
    return model


# ---- arrays and weights -------------------------------------------------------------------
def to_np(t):
    """A NumPy copy of a minitorch Tensor, torch tensor or array."""
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    if isinstance(t, mt.Tensor):
        return np.array(mt.backend.to_numpy(t.data))
    return np.array(t)


def copy_weights(source, target):
    """Copy every parameter and buffer from `source` into `target` (either engine, either way)."""
    if not isinstance(source, mt.nn.Module):
        target.load_state_dict(source.state_dict())                  # torch tensors into minitorch
    else:
        target.load_state_dict({k: torch.from_numpy(to_np(v)) for k, v in source.state_dict().items()})
    return target


def assert_state_close(mt_model, torch_model, rtol, atol, what=""):
    """Every parameter and buffer of the two models agrees (keys, dtypes and values)."""
    mine, theirs = mt_model.state_dict(), torch_model.state_dict()
    assert list(mine) == list(theirs), f"{what}: state_dict keys differ"
    for key, value in theirs.items():
        expected = to_np(value)
        assert mine[key].dtype == expected.dtype, f"{what}: {key} dtype {mine[key].dtype} != {expected.dtype}"
        np.testing.assert_allclose(to_np(mine[key]), expected, rtol=rtol, atol=atol, err_msg=f"{what}: {key}")
