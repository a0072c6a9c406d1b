"""The fast CrossEntropy, which replaces core/loss.py's while minitorch_cnn.backends.fast is
enabled.  tests/test_core_activations_loss_linear.py holds the two equal.

Departures from core.loss:
  CrossEntropy
  * on the GPU, targets the host could not check (`invalid`, a 0-d device boolean from
    ops/loss.py's check_target_values) are clipped to real classes and turn the loss and its
    gradient into NaN, with no host read (the error is raised later by check_deferred_targets);
  * the softmax gradient is scaled in place, in the buffer it was computed in;
  * NumPy's warnings for inf logits and the 0/0 mean of an empty batch are silenced here too.

_quiet and _poisoned are shared with ops/loss.py's ClassLoss and MSE.
"""
import contextlib

import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import loss as core_loss
from ..core.autograd import Function


def _quiet(xp):
    """'mean' over no weight is 0/0 = NaN by definition (as torch): no NumPy warning for it."""
    return np.errstate(divide="ignore", invalid="ignore") if xp is np else contextlib.nullcontext()


def _poisoned(array, invalid):
    """array, or NaN everywhere when the device flag `invalid` is set (no host read)."""
    if invalid is None or array is None:
        return array
    xp = get_array_module(array)
    return xp.where(invalid, array.dtype.type(np.nan), array)


@replaces(core_loss.CrossEntropy)
class CrossEntropy(Function):
    """The plain case, fused: z (N, C), every t_i a class, no weight, no smoothing.

    loss_i = −log softmax(z_i)[t_i] = logsumexp(z_i) − z_i[t_i];
    dz_i = (softmax(z_i) − onehot(t_i)) · g_i   (g_i = g / N for 'mean').
    """
    @staticmethod
    def forward(ctx, logits, target, reduction, invalid=None):
        ctx.invalid = invalid
        return _poisoned(CrossEntropy._forward(ctx, logits, target, reduction), invalid)

    @staticmethod
    def _forward(ctx, logits, target, reduction):
        xp = get_array_module(logits)
        rows = xp.arange(logits.shape[0])
        if ctx.invalid is not None:    # unchecked on the host: read only real classes (the output is NaN if any is not)
            target = xp.clip(target, 0, logits.shape[1] - 1)
        with _quiet(xp):     # inf logits give NaN, as torch's
            shifted = logits - logits.max(axis=1, keepdims=True)   # e^(z − max) ≤ 1: no overflow
            log_sum = xp.log(xp.exp(shifted).sum(axis=1))
        losses = log_sum - shifted[rows, target]
        ctx.save_for_backward(shifted, log_sum, target)
        ctx.reduction = reduction
        if reduction == "none":
            return losses
        total = losses.sum()
        if reduction == "sum":
            return total
        with _quiet(xp):      # an empty batch's mean is 0/0 = NaN, as torch
            return total / logits.dtype.type(logits.shape[0])

    @staticmethod
    def backward(ctx, g):
        return _poisoned(CrossEntropy._backward(ctx, g), ctx.invalid), None

    @staticmethod
    def _backward(ctx, g):
        shifted, log_sum, target = ctx.saved
        xp = get_array_module(shifted)
        grad = xp.exp(shifted - log_sum[:, None])      # softmax
        grad[xp.arange(grad.shape[0]), target] -= 1
        if ctx.reduction == "none":
            grad *= g[:, None]
        elif ctx.reduction == "sum":
            grad *= g
        else:
            with _quiet(xp):   # an empty batch: g / 0 scales nothing
                grad *= g / grad.dtype.type(grad.shape[0])
        return grad
