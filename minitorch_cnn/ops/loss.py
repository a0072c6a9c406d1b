"""Losses: softmax cross-entropy and negative log-likelihood over integer classes (class weights,
ignore_index, label smoothing), and mean squared error.

Notation: z the logits and lp = log softmax(z) the log-probabilities, rows i, classes c, t_i the
target class, w the class weights (all 1 without weight), m_i = [t_i ≠ ignore_index], ε the label
smoothing and C the number of classes.  As torch defines them,

    nll_i    = −m_i · w_{t_i} · lp_{i,t_i}
    smooth_i = −m_i · Σ_c w_c · lp_{ic}
    loss_i   = (1 − ε) · nll_i + (ε / C) · smooth_i          (nll_loss: ε = 0, lp given)
    'mean'   = Σ_i loss_i / Σ_i m_i · w_{t_i}                (NaN when every target is ignored)

so the gradient with respect to lp is Gᵢ꜀ = −a_i · m_i · ((1 − ε) · w_{t_i} · [c = t_i] + (ε / C) · w_c),
with a_i the output gradient (divided by the 'mean' denominator), and through the log-softmax
dz = G − softmax(z) · Σ_c G.

The plain case (z (N, C), no weight, no smoothing, no ignored target) runs the fused
CrossEntropy Function (core/loss.py, or fast/loss.py's while the fast paths are on); ClassLoss
and MSE below are this module's own.
"""
import numbers

import numpy as np

from ..backend import get_array_module
from ..backend import to_numpy as backend_to_numpy
from ..backends.fast import choose
from ..core import loss as core_loss
from ..core.autograd import Function, is_grad_enabled
from ..core.tensor import Tensor
from ..fast.loss import _poisoned, _quiet   # (the import registers the fast CrossEntropy)
from .activation import log_softmax
from .checks import expect_tensor

_REDUCTIONS = ("mean", "sum", "none")
_UINT8_BACKWARD = ("{op}: the backward of an input of more than 2 dims needs int64 class indices, "
                   "got uint8 (torch refuses it too)")


# ---- target values, checked without a host synchronisation on the GPU -----------------------
# Reading a CuPy value on the host (int(t.min()), bool(bad.any())) waits for every queued kernel:
# two such reads per step stall the GPU once per step.  So the class targets are checked
#   * on NumPy arrays: at once, on the host (free), raising ValueError as before;
#   * on CuPy arrays the DataLoader vouched for (vouch_range: it computed the labels' bounds on
#     the host before the upload, once per dataset): on the host, from those bounds, no read;
#   * on other CuPy arrays: on the device.  The flag "some target is invalid" (a 0-d device
#     boolean) turns the loss and its gradient into NaN (CuPy's fancy indexing wraps an
#     out-of-range class instead of raising, so without it the loss would be finite and wrong),
#     and is kept for check_deferred_targets(), which raises the ValueError at the next point
#     where the host reads the GPU anyway (the CLI calls it where it reads the loss).
#   torch does the same in spirit: a device-side assert, reported at the next synchronisation.

def _on_host(array):
    """Whether reading `array` on the host is free (NumPy), not a device synchronisation."""
    return get_array_module(array) is np


def vouch_range(tensor, low, high):
    """Record that every value of `tensor` lies in [low, high], as computed on the host before the
    upload (the DataLoader does it once per dataset); the loss then checks the targets against the
    classes on the host without reading the device.  Writing into the tensor in place voids it."""
    tensor._vouched_range = (tensor._version_counter.value, int(low), int(high))
    return tensor


def vouched_range(tensor):
    """(low, high) from vouch_range while the tensor is unchanged since, else None."""
    vouched = getattr(tensor, "_vouched_range", None)
    if vouched is None or vouched[0] != tensor._version_counter.value:
        return None
    return vouched[1], vouched[2]


def _may_hold(target, value):
    """Whether some target may equal `value` (ignore_index), decided without a device read: on the
    host exactly, else from the vouched range, else True (the general path handles it)."""
    t = target.array
    if _on_host(t):
        return bool((t == value).any())
    bounds = vouched_range(target)
    return bounds is None or bounds[0] <= value <= bounds[1]


_deferred = {}      # (op, n_classes, ignore_index) -> device flag: an invalid target since the last check


def check_target_values(op, target, n_classes, ignore_index):
    """Check that every target is a class in [0, n_classes) or ignore_index.  Raises ValueError at
    once where that costs no device read; returns None when the targets are valid, or a 0-d device
    boolean "some target is invalid" for the loss to fold in (NaN) and for check_deferred_targets."""
    t = target.array
    if t.size == 0:
        return None
    if _on_host(t):
        bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
        if bad.any():
            wrong = t[bad]
            raise ValueError(f"{op}: target values must lie in [0, {n_classes}), got min "
                             f"{int(wrong.min())}, max {int(wrong.max())} outside it "
                             f"(ignore_index={ignore_index} is also allowed)")
        return None
    bounds = vouched_range(target)
    if bounds is not None and (0 <= bounds[0] and bounds[1] < n_classes):
        return None
    # unvouched, or bounds that do not prove it (a batch need not hold the dataset's extremes)
    invalid = (((t < 0) | (t >= n_classes)) & (t != ignore_index)).any()
    key = (op, n_classes, int(ignore_index))
    _deferred[key] = invalid if key not in _deferred else _deferred[key] | invalid   # on the device
    return invalid


def check_deferred_targets():
    """Raise the ValueError a loss on the GPU could not raise at once: some class target since the
    last call was outside [0, C) (and not ignore_index); that loss and its gradients were NaN.
    One host read of the flags gathered since the last call (a synchronisation): call it where the
    host reads the GPU anyway.  Nothing to do on the CPU, where the loss raised at once."""
    if not _deferred:
        return
    pending = list(_deferred.items())
    _deferred.clear()
    xp = get_array_module(pending[0][1])
    flags = backend_to_numpy(xp.stack([flag for _, flag in pending]))
    for ((op, n_classes, ignore_index), _), flag in zip(pending, flags):
        if flag:
            raise ValueError(f"{op}: target values must lie in [0, {n_classes}) (ignore_index="
                             f"{ignore_index} is also allowed); a target outside it reached a loss on "
                             f"the GPU, whose value and gradients were NaN (checked after the step)")


def _rows(x):
    """x (N, C, d1, ...) or (C,) as rows (M, C), classes last: the loss is per row."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    xp = get_array_module(x)
    n_rows = x.size // x.shape[1] if x.shape[1] else x.shape[0] * int(np.prod(x.shape[2:]))
    return xp.moveaxis(x, 1, -1).reshape(n_rows, x.shape[1])


def _unrows(rows, shape):
    """The inverse of _rows for a gradient shaped like the input."""
    if len(shape) == 1:
        return rows.reshape(shape)
    xp = get_array_module(rows)
    moved = (shape[0],) + tuple(shape[2:]) + (shape[1],)
    return xp.moveaxis(rows.reshape(moved), -1, 1)


def _reduce_losses(losses, reduction, denominator):
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total / denominator


class ClassLoss(Function):
    """nll_loss (log_softmax=False: the input is lp) and cross_entropy (log_softmax=True: the
    input is z) with weight, ignore_index and label smoothing; formulas in the module docstring."""
    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction, log_softmax,
                refuse_backward=None, invalid=None):
        ctx.refuse_backward, ctx.invalid = refuse_backward, invalid
        with _quiet(get_array_module(x)):   # NaN/inf logits give NaN as in torch, without warnings
            return _poisoned(ClassLoss._forward(ctx, x, target, weight, ignore_index, label_smoothing,
                                                reduction, log_softmax), invalid)

    @staticmethod
    def _forward(ctx, x, target, weight, ignore_index, label_smoothing, reduction, log_softmax):
        xp = get_array_module(x)
        rows, n_classes = _rows(x), x.shape[0 if x.ndim == 1 else 1]
        t = target.reshape(-1)
        keep = t != ignore_index
        safe_t = xp.where(keep, t, 0)         # ignored rows read class 0, then are masked out
        if ctx.invalid is not None and n_classes:   # unchecked on the host: read only real classes (NaN if any is not)
            safe_t = xp.clip(safe_t, 0, n_classes - 1)
        w = xp.ones(n_classes, dtype=x.dtype) if weight is None else weight
        if log_softmax and n_classes:     # (with no classes every row is ignored: nothing to normalise)
            shifted = rows - rows.max(axis=1, keepdims=True)
            lp = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        else:
            lp = rows
        index = xp.arange(rows.shape[0])
        zero = x.dtype.type(0)
        if n_classes:
            w_t, picked = w[safe_t], lp[index, safe_t]
        else:                 # then every target is ignore_index (checked): nothing to read
            w_t = picked = xp.zeros(rows.shape[0], dtype=x.dtype)
        ctx.save_for_backward(lp if log_softmax else None, w, safe_t, keep)
        ctx.config = (x.shape, reduction, label_smoothing, log_softmax)
        ctx.denominator = xp.where(keep, w_t, zero).sum()
        nll = _reduce_losses(xp.where(keep, -(w_t * picked), zero), reduction, ctx.denominator)
        if label_smoothing == 0:
            return nll.reshape(target.shape) if reduction == "none" else nll
        # torch reduces the two terms separately: a 'mean' of 0/0 stays NaN, never inf
        eps = x.dtype.type(label_smoothing)
        smooth = _reduce_losses(xp.where(keep, -(lp * w).sum(axis=1), zero), reduction, ctx.denominator)
        losses = (1 - eps) * nll + (eps / x.dtype.type(n_classes)) * smooth
        return losses.reshape(target.shape) if reduction == "none" else losses

    @staticmethod
    def backward(ctx, g):
        if ctx.refuse_backward:
            raise RuntimeError(ctx.refuse_backward)
        with _quiet(get_array_module(g)):   # 0 · inf = NaN where torch has NaN too
            grad_x, _, _ = ClassLoss._backward(ctx, g)
        return _poisoned(grad_x, ctx.invalid), None, None

    @staticmethod
    def _backward(ctx, g):
        lp, w, safe_t, keep = ctx.saved
        shape, reduction, label_smoothing, log_softmax = ctx.config
        xp = get_array_module(g)
        dtype = w.dtype
        n_rows, n_classes = safe_t.shape[0], w.shape[0]
        if n_classes == 0:
            return xp.zeros(shape, dtype=dtype), None, None
        if reduction == "none":
            a = g.reshape(-1)
        else:
            a = xp.broadcast_to(g / ctx.denominator if reduction == "mean" else g, (n_rows,))
        a = xp.where(keep, a, dtype.type(0))   # ignored rows get no gradient, even from a/0
        index = xp.arange(n_rows)
        if label_smoothing > 0:
            eps = dtype.type(label_smoothing)
            grad_lp = -(a * (eps / dtype.type(n_classes)))[:, None] * w
            grad_lp[index, safe_t] -= (1 - eps) * a * w[safe_t]
        else:
            grad_lp = xp.zeros((n_rows, n_classes), dtype=dtype)
            grad_lp[index, safe_t] = -(a * w[safe_t])
        if log_softmax:   # through lp = z − logsumexp z
            grad_lp = grad_lp - xp.exp(lp) * grad_lp.sum(axis=1, keepdims=True)
        return _unrows(grad_lp, shape), None, None


def check_reduction(op, reduction, size_average=None, reduce=None):
    """torch's legacy size_average/reduce flags, then the reduction name."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _check_spatial_target(op, x, target, reduction):
    """torch's kernel for inputs of more than 2 dims takes int64 targets only; it lets a uint8
    one through just where it never reads it (an empty input reduced to a number), and then
    refuses the backward.  Returns whether the backward must refuse."""
    if target.dtype != np.uint8 or x.ndim <= 2:
        return False
    if x.array.size or reduction == "none":
        raise TypeError(f"{op}: expected int64 class indices for an input of {x.ndim} dims, got uint8")
    return True


def _check_class_problem(op, x, target, weight, ignore_index):
    """Shapes, dtypes and target values for (N, C, d1, ...) / (C,) inputs with class targets."""
    expect_tensor(x, op)
    expect_tensor(target, op, "target")     # torch takes no list or NumPy array either
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{op}: expected input of shape (N, C), (C,) or (N, C, d1, ...), got a 0-d tensor")
    if target.dtype not in (np.int64, np.uint8):
        raise TypeError(f"{op}: expected integer class indices as target, got dtype {target.dtype} "
                        f"(int64 or uint8, as torch: use target.long(); mse_loss for float targets)")
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if target.shape != expected:
        raise ValueError(f"{op}: expected target of shape {expected} for input {x.shape}, got {target.shape}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: ignore_index must be an int, got {type(ignore_index).__name__}")
    n_classes = x.shape[0 if x.ndim == 1 else 1]
    if n_classes == 0 and x.ndim > 2 and target.array.size:
        raise ValueError(f"{op}: an input of {x.ndim} dims needs at least one class, got {x.shape} "
                         f"(torch refuses it too)")
    if weight is not None:
        expect_tensor(weight, op, "weight")
        if weight.shape != (n_classes,):
            raise ValueError(f"{op}: weight tensor should be defined either for all {n_classes} classes "
                             f"or no classes, but got weight of shape {weight.shape}")
        if weight.dtype != x.dtype:
            raise TypeError(f"{op}: expected weight of the input's dtype {x.dtype}, got {weight.dtype}")
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{op}: not differentiable with respect to weight; this input cannot "
                               f"have requires_grad=True (pass weight.detach())")
    return target, n_classes


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """F.cross_entropy: logits z (N, C), (C,) or (N, C, d1, ...) of any magnitude, target t (N,), () or
    (N, d1, ...) class indices (int64 or uint8) -> loss () for 'mean'/'sum', t's shape for 'none'.

    weight (C,) scales each class; targets equal to ignore_index add nothing (and 'mean' divides by the
    summed weight of the others: NaN when all are ignored); label_smoothing ε mixes in (ε / C) times
    the weighted sum over all classes.  With lp = log softmax(z) and G the gradient of the loss with
    respect to lp (the module docstring): dz = G − softmax(z) · Σ_c G; in the plain case
    dz = (softmax(z) − onehot(t)) · g  (/ N for 'mean').

    A float target shaped like the logits holds class probabilities p, as in torch: loss_i =
    −Σ_c w_c p'_ic lp_ic with p' = p (1 − ε) + ε / C, 'mean' over rows; dz = softmax(z) Σ_c w_c p'_c − w p'
    (times g), dp = −w lp (1 − ε) · g."""
    logits = input
    if isinstance(weight, str):
        raise TypeError(f"cross_entropy: weight must be a Tensor or None, got str {weight!r} "
                        f"(pass reduction={weight!r} by keyword, as in torch's signature)")
    reduction = check_reduction("cross_entropy", reduction, size_average, reduce)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"cross_entropy: label_smoothing must be a float, got {type(label_smoothing).__name__}")
    if label_smoothing > 1.0:   # torch refuses only this side; ε ≤ 0 (and NaN) mean no smoothing
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    if not label_smoothing > 0:
        label_smoothing = 0.0
    if isinstance(target, Tensor) and isinstance(logits, Tensor) and target.shape == logits.shape \
            and logits.ndim >= 1:
        return _probability_cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing)
    target, n_classes = _check_class_problem("cross_entropy", logits, target, weight, ignore_index)
    invalid = check_target_values("cross_entropy", target, n_classes, ignore_index)
    plain = (logits.ndim == 2 and n_classes > 0 and weight is None and label_smoothing == 0
             and not _may_hold(target, ignore_index))
    # target goes in as a Tensor so that apply() checks it is on the logits' device;
    # it never requires grad (backward returns None for it)
    refuse = _check_spatial_target("cross_entropy", logits, target, reduction)
    fused = choose(core_loss.CrossEntropy, logits)
    # unchecked GPU targets (invalid) need the NaN poisoning, which the core CrossEntropy leaves out
    if plain and not refuse and (invalid is None or fused is not core_loss.CrossEntropy):
        return fused.apply(logits, target, reduction=reduction, invalid=invalid)
    return ClassLoss.apply(logits, target, weight, ignore_index=int(ignore_index),
                           label_smoothing=float(label_smoothing), reduction=reduction, log_softmax=True,
                           refuse_backward=refuse and _UINT8_BACKWARD.format(op="cross_entropy"),
                           invalid=invalid)


def _probability_cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing):
    """cross_entropy with class probabilities p (target shaped like the logits), as torch:
    loss_i = −Σ_c w_c · p'_ic · lp_ic with p' = p (1 − ε) + ε / C; 'mean' divides by the number of
    rows (not by weights).  Built from differentiable ops, so p gets its gradient too."""
    op = "cross_entropy"
    if target.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point target for class probabilities (a target "
                        f"shaped like the input), got {target.dtype}")
    if logits.dtype.kind != "f" and logits.array.size:    # (torch lets an empty one through)
        raise TypeError(f"{op}: expected a floating point input, got dtype {logits.dtype}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: ignore_index must be an int, got {type(ignore_index).__name__}")
    if ignore_index >= 0:
        raise ValueError(f"{op}: ignore_index is not supported for class-probability targets "
                         f"(got {ignore_index}; torch refuses any ignore_index ≥ 0)")
    class_dim = 0 if logits.ndim == 1 else 1
    n_classes = logits.shape[class_dim]
    if weight is not None:
        expect_tensor(weight, op, "weight")
        if weight.shape != (n_classes,):
            raise ValueError(f"{op}: weight tensor should be defined either for all {n_classes} classes "
                             f"or no classes, but got weight of shape {weight.shape}")
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{op}: not differentiable with respect to weight; this input cannot "
                               f"have requires_grad=True (pass weight.detach())")
    lp = log_softmax(logits, class_dim)
    if label_smoothing > 0 and n_classes:      # in the target's own dtype, as torch
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    # one dtype for both before they meet, so that each gradient comes back in its own dtype
    dtype = np.result_type(lp.dtype, target.dtype) if lp.dtype.kind == "f" else target.dtype
    terms = lp.to(dtype=dtype) * target.to(dtype=dtype)
    if weight is not None:
        terms = terms * weight.reshape((n_classes,) + (1,) * (logits.ndim - class_dim - 1))
    if reduction == "none":
        return -terms.sum(dim=class_dim)
    total = -terms.sum()
    if reduction == "sum":
        return total
    if logits.array.size == 0:      # torch fills the mean of nothing with NaN (gradient 0)
        return total * 0 + float("nan")
    return total / (logits.array.size // n_classes)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """F.nll_loss: log-probabilities lp (N, C), (C,) or (N, C, d1, ...), target t (N,), () or (N, d1, ...)
    class indices (int64 or uint8) -> loss_i = −w[t_i] · lp[i, t_i], () for 'mean'/'sum', t's shape for
    'none'; targets equal to ignore_index add 0, and 'mean' divides by Σ w[t_i] over the others
    (NaN when all are ignored);  dx = −a_i · w[t_i] at [i, t_i], 0 elsewhere, a_i = g_i (/ Σ w[t_i] for 'mean')."""
    log_probs = input
    if isinstance(weight, str):
        raise TypeError(f"nll_loss: weight must be a Tensor or None, got str {weight!r} "
                        f"(pass reduction={weight!r} by keyword, as in torch's signature)")
    reduction = check_reduction("nll_loss", reduction, size_average, reduce)
    target, n_classes = _check_class_problem("nll_loss", log_probs, target, weight, ignore_index)
    invalid = check_target_values("nll_loss", target, n_classes, ignore_index)
    refuse = _check_spatial_target("nll_loss", log_probs, target, reduction)
    return ClassLoss.apply(log_probs, target, weight, ignore_index=int(ignore_index),
                           label_smoothing=0.0, reduction=reduction, log_softmax=False,
                           refuse_backward=refuse and _UINT8_BACKWARD.format(op="nll_loss"),
                           invalid=invalid)


class MSE(Function):
    """loss = Σ (x − y)² (/ n for 'mean');  dx = 2 (x − y) · g (/ n),  dy = −dx."""
    @staticmethod
    def forward(ctx, x, y, reduction):
        diff = x - y
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        squared = diff * diff
        if reduction == "none":
            return squared
        if reduction == "sum":
            return squared.sum()
        with _quiet(get_array_module(x)):    # the mean of nothing is NaN, as torch
            return squared.sum() / x.dtype.type(x.size)

    @staticmethod
    def backward(ctx, g):
        diff = ctx.saved[0]
        if ctx.reduction == "mean":
            with _quiet(get_array_module(diff)):      # an empty input: g / 0 scales nothing
                grad = diff * (g * 2 / diff.dtype.type(diff.size))
        else:
            grad = diff * (g * 2)
        need_x, need_y = ctx.needs_input_grad
        return (grad if need_x else None), (-grad if need_y else None)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """F.mse_loss: x, y of one shape (nothing is broadcast) -> mean or sum of (x − y)², or
    (x − y)² for 'none';  dx = 2 (x − y) · g  (/ n for 'mean'),  dy = −dx.
    weight= (torch 2.13's per-element weights) is not built: None only."""
    x = input
    if weight is not None:
        raise RuntimeError("mse_loss: weight= is not supported by minitorch_cnn (only weight=None); "
                           "this call needs real PyTorch")
    if isinstance(size_average, str):
        raise TypeError(f"mse_loss: size_average must be a bool or None, got str {size_average!r} "
                        f"(pass reduction={size_average!r} by keyword, as in torch's signature)")
    reduction = check_reduction("mse_loss", reduction, size_average, reduce)
    expect_tensor(x, "mse_loss")
    expect_tensor(target, "mse_loss", "target")
    if x.dtype.kind != "f" or target.dtype.kind != "f":
        raise TypeError(f"mse_loss: expected floating point input and target, got {x.dtype} and {target.dtype}")
    if x.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {x.shape} and target shape {target.shape} differ")
    return MSE.apply(x, target, reduction=reduction)
