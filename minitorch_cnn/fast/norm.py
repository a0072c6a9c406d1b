"""The fast BatchNorm, which replaces core/norm.py's BatchNorm while minitorch_cnn.backends.fast
is enabled.  Its definition: core/norm.py and minitorch_cnn/reference.py's batch_norm,
batch_norm_backward and update_running_stats (plain whole-array NumPy);
tests/test_core_pool_norm.py and tests/test_reference.py hold everything below equal to them.

Departures from core.norm.BatchNorm (tools/time_tricks.py times the tricks):
  * every per-channel sum (μ, σ², db, dw) is an einsum over an (N, C, L) view;
  * the output is computed as torch does, x·a + c with per-channel a = w/√(σ² + eps) and
    c = b − μ·a; x̂ is never formed: the forward saves x − μ and 1/√(σ² + eps), and the
    backward forms x̂·dw from them;
  * in inference (evaluation, no gradient needed) the running statistics are folded into
    a and c as well;
  * float16 inputs are normalised in float32 (one rounding at the end), with float16
    parameters and statistics, or float32 ones (torch's CPU "mixed" mode); the running
    statistics are updated in their own dtype;
  * an empty batch returns torch's empty result (and its dtype) and leaves the statistics.
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import norm as core_norm
from ..core.autograd import Function
from ..ops.pairs import compute_dtype


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


@replaces(core_norm.BatchNorm)
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
