"""Normalisation over other axes, as PyTorch defines it: F.layer_norm, F.group_norm and
F.instance_norm.  They check their arguments (torch's shapes, dtypes and errors) and run
core/norm_axes.py's LayerNorm, GroupNorm and InstanceNorm (there are no fast replacements).

Off the happy path, as torch on the CPU: a float16 input is normalised in float32 and rounded
once (its parameters float16, or all float32); other mixes of dtypes and integer inputs are
refused; an empty input gives an empty result; NaN spreads over the values that share its
statistics.  instance_norm with use_input_stats=False normalises by the running statistics,
per channel, which is batch norm in evaluation (F.batch_norm), as in torch.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..backends.fast import choose
from ..core import norm_axes as core
from ..core.tensor import Tensor
from .checks import expect_floating, expect_tensor
from .norm import batch_norm, mismatched_parameter
from .pairs import is_int


def _check_scalar(op, name, value):
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a float, got {type(value).__name__} {value!r}")
    return float(value)


def _check_param_dtypes(op, x, params):
    """torch's CPU rule (ops/norm.py's mismatched_parameter): the parameters have the input's
    dtype, or the input is float16 and every parameter float32 (normalised in float32 all the same)."""
    mismatch = mismatched_parameter(x, params)
    if mismatch is None:
        return
    name, t = mismatch
    raise RuntimeError(f"{op}: mixed dtype: expected {name} of the input's dtype {x.dtype} (or all "
                       f"parameters float32 for a float16 input), got {t.dtype}")


def _run(function, x, params, m, **kwargs):
    """function.apply(x, *params, ...) in x's compute dtype: float16 runs in float32 and the
    result is rounded back once (its gradients flow back through the casts).  With no value to
    normalise over (m = 0) there is no output element either: the empty result is x · 0, tied
    to the parameters so that their gradients are zeros, as torch's."""
    if m == 0:
        return sum((p.sum() * 0 for p in params if p is not None), x * 0)
    dtype = x.dtype
    if dtype == np.float16:
        x = x.to(dtype=np.float32)
        params = [None if p is None else p.to(dtype=np.float32) for p in params]
    out = choose(function, x, *params).apply(x, *params, **kwargs)
    return out.to(dtype=dtype) if dtype == np.float16 else out


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """F.layer_norm: x (*, D₁ … D_k) -> same shape, normalised over its last k axes,
    normalized_shape = (D₁ … D_k); weight, bias (D₁ … D_k) or None.
    x̂ = (x − μ)/√(σ² + eps) per leading index;  y = w · x̂ + b;
    db = Σ g,  dw = Σ g · x̂ (over the leading axes),
    dx = s · (w·g − mean(w·g) − x̂ · mean(w·g · x̂)), the means over the last k axes."""
    x = expect_tensor(input, "layer_norm", "input")
    for name, t in (("weight", weight), ("bias", bias)):
        expect_tensor(t, "layer_norm", name, optional=True)
    if isinstance(normalized_shape, numbers.Integral) or not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"layer_norm: normalized_shape must be a tuple of ints, got "
                        f"{type(normalized_shape).__name__} {normalized_shape!r}")
    if not all(is_int(d) for d in normalized_shape):
        raise TypeError(f"layer_norm: normalized_shape must be a tuple of ints, got {normalized_shape!r}")
    eps = _check_scalar("layer_norm", "eps", eps)
    shape, k = tuple(int(d) for d in normalized_shape), len(normalized_shape)
    if k == 0:
        raise RuntimeError("layer_norm: expected normalized_shape to be at least 1-dimensional, got ()")
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"layer_norm: given normalized_shape={list(shape)}, expected an input of shape "
                           f"[*, {', '.join(map(str, shape))}], got {tuple(x.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: expected {name} of the shape of normalized_shape {shape}, "
                               f"got {tuple(t.shape)}")
    expect_floating(x, "layer_norm")
    _check_param_dtypes("layer_norm", x, (("weight", weight), ("bias", bias)))
    return _run(core.LayerNorm, x, (weight, bias), math.prod(shape), normalized_ndim=k, eps=eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """F.group_norm: x (N, C, *) -> same shape; the C channels in num_groups groups of C/G,
    each sample's group normalised over its C/G · Π* values; weight, bias (C,) or None.
    y = w_c · x̂ + b_c;  db = Σ g,  dw = Σ g · x̂ (over N and *),
    dx = s · (w·g − mean(w·g) − x̂ · mean(w·g · x̂)), the means within each group."""
    x = expect_tensor(input, "group_norm", "input")
    for name, t in (("weight", weight), ("bias", bias)):
        expect_tensor(t, "group_norm", name, optional=True)
    if not is_int(num_groups):
        raise TypeError(f"group_norm: num_groups must be an int, got {type(num_groups).__name__} {num_groups!r}")
    eps = _check_scalar("group_norm", "eps", eps)
    if x.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input (N, C, *) of at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    c = x.shape[1]
    if num_groups <= 0:   # torch: a ZeroDivisionError for 0
        raise ValueError(f"group_norm: num_groups must be positive, got {num_groups}")
    if c % num_groups:
        raise RuntimeError(f"group_norm: expected the number of channels to be divisible by num_groups, "
                           f"got input of shape {tuple(x.shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (c,):
            raise RuntimeError(f"group_norm: expected {name} of shape ({c},) (one per channel) for input "
                               f"of shape {tuple(x.shape)}, got {tuple(t.shape)}")
    expect_floating(x, "group_norm")
    _check_param_dtypes("group_norm", x, (("weight", weight), ("bias", bias)))
    m = math.prod(x.shape[1:]) // num_groups
    return _run(core.GroupNorm, x, (weight, bias), m, num_groups=int(num_groups), eps=eps)


def _running_arrays(x, running_mean, running_var):
    """The running statistics as raw arrays on x's device (updated in place), each (C,)."""
    arrays = []
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is None:
            arrays.append(None)
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"instance_norm: expected {name} to be a Tensor, got {type(t).__name__}")
        if tuple(t.shape) != (x.shape[1],):
            raise RuntimeError(f"instance_norm: expected {name} of shape ({x.shape[1]},) for input of shape "
                               f"{tuple(x.shape)}, got {tuple(t.shape)}")
        if t.dtype.kind != "f":
            raise TypeError(f"instance_norm: expected {name} to be floating point, got {t.dtype}")
        if backend.device_of(t.array) != x.device:
            raise RuntimeError(f"instance_norm: expected all tensors to be on the same device, but {name} "
                               f"is on {backend.device_of(t.array)} and the input on {x.device}")
        arrays.append(t.array)
    return arrays


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,  # noqa: A002
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """F.instance_norm: x (N, C, *) -> same shape, each sample's channel normalised over its Π*
    values (group_norm with C groups); weight, bias (C,) or None.  With running_mean and
    running_var (C,), use_input_stats=True also updates them in place (the batch's average of the
    per-instance mean and unbiased variance); use_input_stats=False normalises by them instead.
    Backward (input statistics): db = Σ g,  dw = Σ g · x̂ (over N and *),
    dx = w · s · (g − mean(g) − x̂ · mean(g · x̂)), the means over each instance's Π* values."""
    x = expect_tensor(input, "instance_norm", "input")
    for name, t in (("weight", weight), ("bias", bias)):
        expect_tensor(t, "instance_norm", name, optional=True)
    momentum, eps = _check_scalar("instance_norm", "momentum", momentum), _check_scalar("instance_norm", "eps", eps)
    if x.ndim < 2:
        raise ValueError(f"instance_norm: expected an input (N, C, *) of at least 2 dimensions, got shape "
                         f"{tuple(x.shape)}")
    if use_input_stats and math.prod(x.shape[2:]) == 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of "
                         f"shape {tuple(x.shape)}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("instance_norm: running_mean and running_var must both be None or neither")
    if not use_input_stats and running_mean is None:
        raise RuntimeError("instance_norm: expected running_mean and running_var when use_input_stats is False")
    stats = _running_arrays(x, running_mean, running_var)
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (x.shape[1],):
            raise RuntimeError(f"instance_norm: expected {name} of shape ({x.shape[1]},) for input of shape "
                               f"{tuple(x.shape)}, got {tuple(t.shape)}")
    expect_floating(x, "instance_norm")
    _check_param_dtypes("instance_norm", x, (("weight", weight), ("bias", bias)))
    if not use_input_stats:   # constants per channel: batch norm in evaluation, as torch
        # torch casts the statistics to what batch norm wants: the parameters' dtype
        dtype = next((t.dtype for t in (weight, bias) if t is not None),
                     np.float32 if x.dtype == np.float16 else x.dtype)
        mean, var = (Tensor(a.astype(dtype, copy=False)) for a in stats)
        return batch_norm(x, mean, var, weight, bias, training=False, momentum=momentum, eps=eps)
    if x.numel() == 0 and stats[0] is not None:
        # torch: an empty batch leaves NaN statistics (a mean over no sample); empty spatial axes
        # leave them as they were
        if x.shape[0] == 0:
            stats[0][...], stats[1][...] = np.nan, np.nan
        stats = [None, None]
    return _run(core.InstanceNorm, x, (weight, bias), math.prod(x.shape[2:]), running_mean=stats[0],
                running_var=stats[1], momentum=momentum, eps=eps)
