"""More losses: binary_cross_entropy, binary_cross_entropy_with_logits, l1_loss, smooth_l1_loss,
huber_loss, kl_div.

The API: torch's signatures, checks, broadcasting and dtype rules, then the Functions of
core/loss_extra.py (formulas there).  float16 is computed in float32 and the result cast back, as
torch does on the CPU; integer inputs are refused, as torch refuses them.
"""
import numbers
import warnings

import numpy as np

from ..backends.fast import choose
from ..core import loss_extra as core
from ..core.autograd import is_grad_enabled
from ..core.tensor import Tensor
from .checks import expect_tensor
from .loss import check_reduction
from .promotion import broadcast_shapes, promote_types, result_type

_FLOAT32 = np.dtype(np.float32)


def _floating(op, t, argument):
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point {argument}, got dtype {t.dtype} "
                        f"(torch has no {op} kernel for it; convert with .float())")


def _widen(dtype):
    """The dtype the arithmetic runs in: float16 widened to float32, as torch on the CPU."""
    return _FLOAT32 if dtype == np.float16 else np.dtype(dtype)


def _compute_dtype(*tensors):
    return _widen(result_type(*tensors))


def _cast(t, dtype):
    return t if t is None or t.dtype == dtype else t.to(dtype=dtype)


def _no_grad_for(op, t, argument):
    if t is not None and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{op}: not differentiable with respect to {argument}; this input cannot "
                           f"have requires_grad=True (pass {argument}.detach())")


def _optional_weight(op, t, argument, shape):
    """weight / pos_weight: None, or a tensor broadcasting to `shape` without growing it."""
    expect_tensor(t, op, argument, optional=True)
    if t is None:
        return None
    if broadcast_shapes(op, t.shape, shape) != tuple(shape):
        raise RuntimeError(f"{op}: {argument} of shape {t.shape} broadcasts beyond the input's shape "
                           f"{shape}; it must broadcast to the input's shape")
    _no_grad_for(op, t, argument)
    return t


def _same_size(op, x, y):
    if x.shape != y.shape:
        raise ValueError(f"{op}: target size {y.shape} must be the same as input size {x.shape}")


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """F.binary_cross_entropy_with_logits: logits z, targets y of one shape (any), weight w and pos_weight
    p broadcasting to it -> ℓ = −w · (p · y · log σ(z) + (1 − y) · log(1 − σ(z))), reduced; stable for
    any logit.  dz = g · w · ((1 + (p − 1) y) σ(z) − p y), dy = −g · w · (z + (p − 1) log σ(z)).
    The result has the target's dtype, as torch's."""
    op = "binary_cross_entropy_with_logits"
    z, y = expect_tensor(input, op), expect_tensor(target, op, "target")
    reduction = check_reduction(op, reduction, size_average, reduce)
    _same_size(op, z, y)
    _floating(op, z, "input")
    _floating(op, y, "target")
    weight = _optional_weight(op, weight, "weight", z.shape)
    pos_weight = _optional_weight(op, pos_weight, "pos_weight", z.shape)
    dtype = _compute_dtype(z, y, weight, pos_weight)
    out = choose(core.BCEWithLogits).apply(_cast(z, dtype), _cast(y, dtype), _cast(weight, dtype),
                                           _cast(pos_weight, dtype), reduction=reduction)
    return _cast(out, y.dtype)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """F.binary_cross_entropy: probabilities x in [0, 1], targets y in [0, 1] of x's shape and dtype,
    weight w broadcasting to it -> ℓ = −w · (y · max(log x, −100) + (1 − y) · max(log(1 − x), −100)),
    reduced.  dx = g · w · (x − y) / max(x (1 − x), 1e-12),  dy = g · w · (log(1 − x) − log x)."""
    op = "binary_cross_entropy"
    x, y = expect_tensor(input, op), expect_tensor(target, op, "target")
    reduction = check_reduction(op, reduction, size_average, reduce)
    if x.shape != y.shape:
        raise ValueError(f"{op}: using a target size {y.shape} that is different to the input size "
                         f"{x.shape} is not supported (torch refuses it too); give them one size")
    _floating(op, x, "input")
    if y.dtype != x.dtype:
        raise RuntimeError(f"{op}: expected a target of the input's dtype {x.dtype}, got {y.dtype}")
    weight = _optional_weight(op, weight, "weight", x.shape)
    if x.array.size and not bool(((x.array >= 0) & (x.array <= 1)).all()):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (NaN is refused too)")
    if y.array.size and not bool(((y.array >= 0) & (y.array <= 1)).all()):
        raise RuntimeError(f"{op}: all elements of target should be between 0 and 1")
    dtype = _compute_dtype(x)
    out = choose(core.BCE).apply(_cast(x, dtype), _cast(y, dtype), _cast(weight, dtype), reduction=reduction)
    return _cast(out, x.dtype)


def _broadcast_pair(op, x, y, warn, stacklevel=4):
    """x and y expanded to their broadcast shape (torch warns when the sizes differ)."""
    if x.shape == y.shape:
        return x, y
    if warn:
        warnings.warn(f"{op}: using a target size {y.shape} that is different to the input size {x.shape}. "
                      f"This will likely lead to incorrect results due to broadcasting. Please ensure "
                      f"they have the same size.", UserWarning, stacklevel=stacklevel)
    shape = broadcast_shapes(op, x.shape, y.shape)
    return x.expand(*shape), y.expand(*shape)


def _regression_pair(op, input, target, input_dtype=False):  # noqa: A002
    """Both tensors, broadcast, in one compute dtype: torch's promotion (one floating side is
    enough: an integer one is promoted), or the input's dtype (input_dtype=True: huber_loss)."""
    x, y = expect_tensor(input, op), expect_tensor(target, op, "target")
    if input_dtype:
        _floating(op, x, "input")
    elif x.dtype.kind != "f" and y.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input or target, got {x.dtype} and {y.dtype} "
                        f"(torch has no {op} kernel for two integer tensors; convert with .float())")
    out_dtype = x.dtype if input_dtype else result_type(x, y)
    x, y = _broadcast_pair(op, x, y, warn=True)
    compute = _widen(out_dtype)
    return _cast(x, compute), _cast(y, compute), out_dtype


def _weighted(op, unreduced, weight, input_shape, reduction, mean_by_weight):  # noqa: A002
    """torch's weight= on l1_loss / huber_loss: ℓ · w, then 'mean' divides by Σ w (l1) or n (huber)."""
    expect_tensor(weight, op, "weight")
    if weight.shape != tuple(input_shape):
        raise ValueError(f"{op}: weights and input must have the same size, got weight {weight.shape} "
                         f"and input {tuple(input_shape)}")
    losses = unreduced * weight
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / weight.sum() if mean_by_weight else losses.mean()


def _both_integers(x, y):
    return isinstance(y, Tensor) and x.dtype.kind in "iu" and y.dtype.kind in "iu"


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """F.l1_loss: x, y (broadcast, with torch's warning when the sizes differ) -> |x − y|, reduced;
    dx = g · sign(x − y) (0 where x = y), dy = −dx.  weight (x's shape): ℓ · w, and 'mean' is
    Σ ℓ w / Σ w.  Two integer tensors give an integer result for 'sum' and 'none', as torch's."""
    op = "l1_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    input_shape = expect_tensor(input, op).shape
    if _both_integers(input, target) and reduction != "mean":    # torch: an integer result
        return choose(core.L1).apply(*_broadcast_pair(op, input, target, warn=True, stacklevel=3),
                                         reduction=reduction)
    x, y, out_dtype = _regression_pair(op, input, target)
    if weight is not None:
        out = _weighted(op, choose(core.L1).apply(x, y, reduction="none"), weight, input_shape, reduction, True)
        out_dtype = promote_types(out_dtype, weight.dtype)
    else:
        out = choose(core.L1).apply(x, y, reduction=reduction)
    return _cast(out, out_dtype)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """F.smooth_l1_loss: d = x − y (broadcast) -> d²/(2β) where |d| < β, else |d| − β/2, reduced;
    dx = g · d/β inside, g · sign(d) outside, dy = −dx.  β = 0 is l1_loss, as in torch."""
    op = "smooth_l1_loss"
    reduction = check_reduction(op, reduction, size_average, reduce)
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"{op}: beta must be a float, got {type(beta).__name__}")
    if beta < 0:
        raise RuntimeError(f"{op}: does not support negative values for beta, got {beta}")
    x, y, out_dtype = _regression_pair(op, input, target)
    if beta == 0:
        return _cast(choose(core.L1).apply(x, y, reduction=reduction), out_dtype)
    return _cast(choose(core.SmoothL1).apply(x, y, beta=float(beta), reduction=reduction), out_dtype)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """F.huber_loss: d = x − y (broadcast) -> d²/2 where |d| < δ, else δ (|d| − δ/2), reduced;
    dx = g · d inside, g · δ sign(d) outside, dy = −dx.  The result has the input's dtype, as torch's.
    weight (x's shape): ℓ · w, and 'mean' is the plain mean of ℓ w, as torch's."""
    op = "huber_loss"
    reduction = check_reduction(op, reduction)
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real):
        raise TypeError(f"{op}: delta must be a float, got {type(delta).__name__}")
    if not delta > 0:
        raise RuntimeError(f"{op}: does not support non-positive values for delta, got {delta}")
    x_b, y_b, out_dtype = _regression_pair(op, input, target, input_dtype=True)
    if weight is not None:
        unreduced = choose(core.Huber).apply(x_b, y_b, delta=float(delta), reduction="none")
        out_dtype = promote_types(out_dtype, weight.dtype)
        return _cast(_weighted(op, unreduced, weight, input.shape, reduction, False), out_dtype)
    return _cast(choose(core.Huber).apply(x_b, y_b, delta=float(delta), reduction=reduction), out_dtype)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """F.kl_div: log-probabilities x, targets y (probabilities, or log-probabilities with log_target;
    broadcast) -> ℓ = y (log y − x) (0 where y = 0), or e^y (y − x); 'mean' over all elements (with
    torch's warning), 'batchmean' Σ ℓ / x.shape[0] (the KL divergence per sample), 'sum', 'none'.
    dx = −g · y (or −g e^y);  dy = g (log y + 1 − x) (NaN at y = 0, as torch), or g e^y (y − x + 1)."""
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = check_reduction(op, reduction, size_average, reduce)
    elif reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size and the "
                      "support size; 'batchmean' divides only by the batch size, and aligns with the KL "
                      "div math definition.", UserWarning, stacklevel=2)
    elif reduction != "batchmean":
        reduction = check_reduction(op, reduction)
    x, y = expect_tensor(input, op), expect_tensor(target, op, "target")
    if x.dtype.kind != "f" or y.dtype.kind != "f":
        raise TypeError(f"{op}: integral inputs not supported, got {x.dtype} and {y.dtype}")
    out_dtype = result_type(x, y)
    compute = _widen(out_dtype)
    x_b, y_b = _broadcast_pair(op, x, y, warn=False)
    core_reduction = "sum" if reduction == "batchmean" else reduction
    out = choose(core.KLDiv).apply(_cast(x_b, compute), _cast(y_b, compute), log_target=bool(log_target),
                                   reduction=core_reduction)
    if reduction == "batchmean" and x.ndim:
        out = out / x.shape[0]
    return _cast(out, out_dtype)
