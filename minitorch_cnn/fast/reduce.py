"""The fast Sum and Mean, which replace core/reduce.py's while minitorch_cnn.backends.fast is
enabled.  tests/test_core_elementwise_reduce_shape.py holds them equal to the core's.

Departures from core.reduce:
  Sum
  * integer and bool tensors sum to int64 without a dtype (torch's rule; the core takes NumPy's
    default, and the API asks both for int64);
  * float16 accumulates in float32 and rounds once, as torch's CPU reductions do;
  * the gradient comes back in x's dtype.
  Mean
  * float16 accumulates in float32 and rounds once;
  * the mean of nothing is NaN without a division by zero, and its (empty) gradient divides
    by 1;
  * the gradient comes back in x's dtype.
"""
import builtins
import math

import numpy as np   # dtypes and error states only: the computing goes through the array module

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import reduce as core_reduce
from ..core.autograd import Function
from ..core.reduce import spread as _expand   # the same broadcast back over the reduced axes


# ---- also used by the API's Extreme, Var and Norm (ops/reduce.py) --------------------------
def _accumulator(dtype):
    """float16 reductions accumulate in float32, as torch's do on the CPU."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


def _count(shape, axes):
    return math.prod(shape[a] for a in axes)


def _quiet():
    # 0/0 = nan, x/0 = inf and empty reductions are results here (torch's), not warnings.
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


# ---- sum, mean --------------------------------------------------------------------------
@replaces(core_reduce.Sum)
class Sum(Function):
    """out = Σ_axes x;  dx = g broadcast back over the summed axes."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim, ctx.dtype = x.shape, axes, keepdim, x.dtype
        xp = get_array_module(x)
        if dtype is None:
            dtype = np.dtype(np.int64) if x.dtype.kind in "biu" else x.dtype
        with _quiet():   # inf + -inf = nan, as torch, without NumPy's warning
            return xp.sum(x, axis=axes, keepdims=keepdim, dtype=_accumulator(dtype)).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return (_expand(g, ctx.shape, ctx.axes, ctx.keepdim).astype(ctx.dtype, copy=False),)


@replaces(core_reduce.Mean)
class Mean(Function):
    """out = Σ_axes x / n;  dx = g / n broadcast back."""
    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        ctx.shape, ctx.axes, ctx.keepdim, ctx.dtype = x.shape, axes, keepdim, x.dtype
        ctx.count = _count(x.shape, axes)
        xp = get_array_module(x)
        dtype = x.dtype if dtype is None else dtype
        with _quiet():   # the mean of nothing is nan, as torch's
            total = xp.sum(x, axis=axes, keepdims=keepdim, dtype=_accumulator(dtype))
            return (total / ctx.count if ctx.count else total * np.nan).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return (_expand(g / builtins.max(ctx.count, 1), ctx.shape, ctx.axes, ctx.keepdim)
                .astype(ctx.dtype, copy=False),)
