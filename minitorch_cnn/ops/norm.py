"""Batch normalisation over (N, C, *), exactly as PyTorch defines it.  Its definition:
minitorch_cnn/reference.py's batch_norm, batch_norm_backward and update_running_stats
(plain whole-array NumPy); tests/test_reference.py holds everything below equal to them.

Training normalises with the batch's biased variance and updates the running
variance with the unbiased one; evaluation uses the running statistics.
float16 inputs are normalised in float32 (one rounding at the end), with float16
parameters and statistics, or float32 ones (torch's CPU "mixed" mode).
The fast path sums over channels with einsum, computes the output as torch does, x·a + c
with per-channel a and c, and in inference folds the running statistics into a and c
too (tools/time_tricks.py times these).
"""
import numbers

import numpy as np

from .. import backend
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor
from .checks import expect_tensor
from .pairs import compute_dtype


def _channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _channel_sum(a, b=None):
    """Σ over every axis but C of a, or of a·b without forming the product.

    einsum over (N, C, L) runs 2-3× faster than sum(axis=(0, 2, 3)) (2.6× on (64, 6, 28, 28)
    float32, 1 thread) and needs no temporary.
    """
    xp = get_array_module(a)
    a = a.reshape(a.shape[0], a.shape[1], int(np.prod(a.shape[2:])))
    if b is None:
        return xp.einsum("ncl->c", a)
    return xp.einsum("ncl,ncl->c", a, b.reshape(a.shape))


def _as(array, dtype):
    return None if array is None else array.astype(dtype, copy=False)


class BatchNorm(Function):
    """y = x̂ · w + b,  x̂ = (x − μ) / √(σ² + eps), μ and σ² over every axis but C
    (computed as x · a + c, a = w / √(σ² + eps), c = b − μ · a, as torch does).

    Training (n values per channel):  dw = Σ g·x̂,  db = Σ g,
        dx = w / √(σ² + eps) · (g − db / n − x̂ · dw / n).
    Evaluation (μ, σ² are constants):  dx = g · w / √(σ² + eps).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        xp = get_array_module(x)
        ctx.dtypes = x.dtype, None if weight is None else weight.dtype, None if bias is None else bias.dtype
        ctx.training = training
        ctx.param_shapes = [None if p is None else p.shape for p in (weight, bias)]
        if x.size == 0:   # an empty batch: nothing to normalise, and the statistics stay as they are
            ctx.save_for_backward()
            return xp.zeros(x.shape, dtype=_empty_result_dtype(x, weight, bias))
        shape = _channel_shape(x)
        work = compute_dtype(x.dtype)
        x, weight, bias = x.astype(work, copy=False), _as(weight, work), _as(bias, work)
        if training:
            n = x.size // x.shape[1]
            mean = _channel_sum(x) / n
            centered = x - mean.reshape(shape)
            var = _channel_sum(centered, centered) / n
            # In place, each in its own dtype (float16 statistics of a float16 input stay float16).
            if running_mean is not None:
                running_mean[...] = (1 - momentum) * running_mean.astype(work) + momentum * mean
            if running_var is not None:
                running_var[...] = ((1 - momentum) * running_var.astype(work)
                                    + (momentum * n / (n - 1)) * var)    # unbiased, as torch
        else:
            mean, var = running_mean.astype(work, copy=False), running_var.astype(work, copy=False)
            if not any(ctx.needs_input_grad):
                # Inference: the whole layer is one per-channel scale and shift, two passes over x
                # instead of four: 1.3× faster on (64, 6, 28, 28) float32 (tools/time_tricks.py).
                scale = (1 / xp.sqrt(var + eps)).astype(work, copy=False)
                if weight is not None:
                    scale = scale * weight
                shift = -mean * scale if bias is None else bias - mean * scale
                out = x * scale.reshape(shape)
                out += shift.reshape(shape)
                return out.astype(ctx.dtypes[0], copy=False)
            centered = x - mean.reshape(shape)
        inv_std = (1 / xp.sqrt(var + eps)).astype(work, copy=False)
        # torch's form, y = x·a + c with a = w/√(σ² + eps) and c = b − μ·a: two passes over x
        # where x̂·w + b takes three, 1.7–1.9× faster on (64, 32, 28, 28) (tools/time_tricks.py);
        # x̂ itself is never formed, here or in the backward.
        scale = inv_std if weight is None else inv_std * weight
        shift = -mean * scale if bias is None else bias - mean * scale
        out = x * scale.reshape(shape)
        out += shift.reshape(shape)
        ctx.save_for_backward(centered, inv_std, weight)
        return out.astype(ctx.dtypes[0], copy=False)

    @staticmethod
    def backward(ctx, g):
        need_x, need_w, need_b = ctx.needs_input_grad
        x_dtype, w_dtype, b_dtype = ctx.dtypes
        if g.size == 0:
            xp = get_array_module(g)
            w_shape, b_shape = ctx.param_shapes
            return (xp.zeros(g.shape, dtype=x_dtype) if need_x else None,
                    xp.zeros(w_shape, dtype=w_dtype) if need_w else None,
                    xp.zeros(b_shape, dtype=b_dtype) if need_b else None)
        centered, inv_std, weight = ctx.saved
        g = g.astype(centered.dtype, copy=False)
        shape = _channel_shape(g)
        grad_b = _channel_sum(g)
        dot = _channel_sum(g, centered)          # Σ g·(x − μ); x̂ = (x − μ)/√(σ² + eps)
        grad_w = dot * inv_std                   # Σ g·x̂
        grad_x = None
        if need_x:
            scale = inv_std if weight is None else weight * inv_std
            if ctx.training:
                # g − db/n − x̂·dw/n, with x̂·dw = (x − μ)·dot/(σ² + eps): from the saved x − μ
                n = g.size // g.shape[1]
                grad_x = centered * (-dot * inv_std * inv_std / n).reshape(shape)
                grad_x += g
                grad_x -= (grad_b / n).reshape(shape)
                grad_x *= scale.reshape(shape)
            else:
                grad_x = g * scale.reshape(shape)
        return (_as(grad_x, x_dtype), _as(grad_w, w_dtype) if need_w else None,
                _as(grad_b, b_dtype) if need_b else None)


def _empty_result_dtype(x, weight, bias):
    """torch's dtype for an empty input: x · w[0] + b[0], a 0-d parameter promoting x only
    to a higher kind (bool < integer < float)."""
    kinds = "biuf"
    dtype = x.dtype
    for p in (weight, bias):
        if p is not None and kinds.index(p.dtype.kind) > kinds.index(dtype.kind) + (dtype.kind == "i"):
            dtype = p.dtype
    return dtype


def _check_dtypes(x, params):
    """torch's rule: every parameter and statistic has the input's dtype, or, for a float16
    input, all of them are float32."""
    if x.dtype.kind != "f":
        raise TypeError(f"batch_norm: not implemented for dtype {x.dtype}")
    present = [(name, t) for name, t in params if t is not None]
    if all(t.dtype == x.dtype for _, t in present):
        return
    if x.dtype == np.float16 and all(t.dtype == np.float32 for _, t in present):
        return
    name, t = next((name, t) for name, t in present if t.dtype != x.dtype)
    raise TypeError(f"batch_norm: expected {name} of the input's dtype {x.dtype} (or all parameters "
                    f"float32 for a float16 input), got {t.dtype}")


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """F.batch_norm: x (N, C, *) -> same shape, x̂ · w + b; running_mean/var (C,) are
    updated in place when training (or None: the batch statistics alone are used).
    Training: dw = Σ g·x̂,  db = Σ g,  dx = w / √(σ² + eps) · (g − db / n − x̂ · dw / n)."""
    expect_tensor(x, "batch_norm", "input")
    for name, t in (("weight", weight), ("bias", bias)):
        expect_tensor(t, "batch_norm", name, optional=True)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and not isinstance(t, Tensor) and not hasattr(t, "shape"):
            raise TypeError(f"batch_norm: expected {name} to be a Tensor, got {type(t).__name__}")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"batch_norm: {name} must be a float, got {type(value).__name__} {value!r}")
    if x.ndim == 0:
        raise ValueError("batch_norm: expected an input (N, C, *), got a 0-d tensor")
    if training and x.shape[0] * int(np.prod(x.shape[2:])) == 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {x.shape}")
    if training and eps <= 0:
        raise ValueError(f"batch_norm: eps must be positive when training, got {eps}")
    if x.numel() == 0:
        # torch returns an empty input before it checks shapes, dtypes or modes (but it reads
        # weight[0] and bias[0], so parameters with no element fail there).
        for name, t in (("weight", weight), ("bias", bias)):
            if t is not None and t.numel() == 0:
                raise ValueError(f"batch_norm: {name} has no elements (an input with no channels)")
        return BatchNorm.apply(x, weight, bias, running_mean=None, running_var=None,
                               training=bool(training), momentum=float(momentum), eps=float(eps))
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, *) of at least 2 dimensions, got shape {x.shape}")
    c = x.shape[1]
    params = (("weight", weight), ("bias", bias), ("running_mean", running_mean), ("running_var", running_var))
    for name, t in params:
        if t is not None and tuple(t.shape) != (c,):
            raise ValueError(f"batch_norm: expected {name} of shape ({c},) for input {x.shape}, got {tuple(t.shape)}")
    # The running statistics go in as raw arrays (updated in place), which apply() does
    # not check for their device; a NumPy/CuPy array is accepted as well as a Tensor.
    running = [t.data if isinstance(t, Tensor) else t for t in (running_mean, running_var)]
    for name, array in zip(("running_mean", "running_var"), running):
        if array is not None and backend.device_of(array) != x.device:
            raise RuntimeError(f"batch_norm: expected all tensors to be on the same device, but {name} "
                               f"is on {backend.device_of(array)} and the input on {x.device}")
    _check_dtypes(x, params)
    if training and (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must both be None or neither")
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm: evaluation mode needs running_mean and running_var")
    return BatchNorm.apply(x, weight, bias, running_mean=running[0], running_var=running[1],
                           training=bool(training), momentum=float(momentum), eps=float(eps))
