"""Activations: relu, leaky_relu, tanh, sigmoid, and the numerically stable softmax / log_softmax.

The API: torch's argument checks, errors and dtype rules, then the Function (core/activation.py,
or fast/activation.py's where one replaces it while the fast paths are on).
"""
import numbers
import warnings

import numpy as np

from ..backend import as_dtype
from ..backends.fast import choose
from ..core import activation as core_activation
from ..core.tensor import Tensor
from ..fast import activation as _fast_activation  # noqa: F401  (registers the fast activations)
from .checks import check_inplace, expect_floating, expect_tensor, refuse_out
from .shape import normalize_dim


def relu(input, inplace=False):  # noqa: A002  (torch's parameter names, here and below)
    """F.relu: x (any shape) -> max(x, 0), same shape and dtype (integers too, not bool);
    dx = g · [x > 0]  (g passes where x is NaN, as torch).

    inplace=True gives the same values but computes out of place: x is left unchanged and a
    new tensor is returned (torch overwrites x); as torch, it is refused on a leaf that
    requires grad."""
    x = expect_tensor(input, "relu")
    if x.dtype.kind == "b":
        raise TypeError("relu: Boolean inputs not supported for relu")
    check_inplace(x, "relu", inplace)
    return choose(core_activation.ReLU, x).apply(x)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """F.leaky_relu: x (any shape, floating) -> x where x > 0 else negative_slope · x, same shape;
    dx = g where x > 0 else negative_slope · g  (x = 0 and NaN take the slope, as torch).

    inplace=True computes out of place (x is left unchanged), as relu."""
    x = expect_tensor(input, "leaky_relu")
    if not isinstance(negative_slope, numbers.Real):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}")
    expect_floating(x, "leaky_relu")
    check_inplace(x, "leaky_relu", inplace)
    return choose(core_activation.LeakyReLU).apply(x, negative_slope=float(negative_slope))


def _as_float(x):
    """Integer and bool tensors enter tanh/sigmoid as float32, torch's default float type."""
    return x if x.dtype.kind == "f" else Tensor(x.array.astype(np.float32))


def tanh(input):  # noqa: A002
    """F.tanh: x (any shape) -> tanh(x), same shape (float32 for integer or bool x);
    dx = g · (1 − out²)."""
    x = expect_tensor(input, "tanh")
    return choose(core_activation.Tanh).apply(_as_float(x))


def sigmoid(input):  # noqa: A002
    """F.sigmoid: x (any shape) -> 1 / (1 + e⁻ˣ), same shape (float32 for integer or bool x);
    dx = g · out · (1 − out)."""
    x = expect_tensor(input, "sigmoid")
    return choose(core_activation.Sigmoid).apply(_as_float(x))


def _softmax_input(x, dim, dtype, op, stacklevel=4):
    expect_tensor(x, op)
    if dim is None:   # torch's legacy implicit dim, with its warning
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to "
                      f"include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if x.ndim in (0, 1, 3) else 1
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if dtype is not None:       # torch casts first, so an integer x with dtype=float works
        x = x.to(dtype=as_dtype(dtype))
    if x.array.size:             # torch returns an empty integer tensor as it is
        expect_floating(x, op)
    axis = normalize_dim(dim, max(x.ndim, 1), op)   # a 0-d tensor takes dim -1 or 0, as torch
    return x, (axis if x.ndim else None)    # a 0-d tensor reduces over its single element


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """F.softmax: x (any shape, floating; or any x with dtype=) -> eˣ / Σ_dim eˣ, same shape;
    dx = out · (g − Σ_dim g · out).  dim=None: torch's implicit dim (0 for 0-, 1- and 3-D input,
    else 1) with its warning, raised _stacklevel frames up."""
    x, axis = _softmax_input(input, dim, dtype, "softmax", _stacklevel + 1)
    return choose(core_activation.Softmax, x).apply(x, dim=axis)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """F.log_softmax: x (any shape, floating; or any x with dtype=) -> x − log Σ_dim eˣ, same shape;
    dx = g − softmax(x) · Σ_dim g.  dim=None as softmax."""
    x, axis = _softmax_input(input, dim, dtype, "log_softmax", _stacklevel + 1)
    return choose(core_activation.LogSoftmax, x).apply(x, dim=axis)


# torch.softmax and torch.log_softmax take (input, dim, dtype): F's have _stacklevel third, so the
# top-level names get these, and a positional dtype lands where torch puts it.
def top_level_softmax(input, dim, dtype=None):  # noqa: A002  (torch's parameter name)
    """torch.softmax(input, dim, dtype=None): F.softmax with torch's top-level parameter order."""
    return softmax(input, dim, dtype=dtype)


def top_level_log_softmax(input, dim, dtype=None):  # noqa: A002
    """torch.log_softmax(input, dim, dtype=None): F.log_softmax with the top-level order."""
    return log_softmax(input, dim, dtype=dtype)


def top_level_relu(input):  # noqa: A002
    """torch.relu(input): F.relu without inplace= (torch's top-level relu has none)."""
    return relu(input)


def top_level_sigmoid(input, *, out=None):  # noqa: A002
    """torch.sigmoid(input, *, out=None): F.sigmoid (out= not built: None only)."""
    refuse_out("sigmoid", out)
    return sigmoid(input)


def top_level_tanh(input, *, out=None):  # noqa: A002
    """torch.tanh(input, *, out=None): F.tanh (out= not built: None only)."""
    refuse_out("tanh", out)
    return tanh(input)
