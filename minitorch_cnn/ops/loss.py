"""Losses: fused softmax cross-entropy over integer classes, and mean squared error."""
from ..autograd import Function
from ..backend import get_array_module
from ..tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


class CrossEntropy(Function):
    """loss_i = −log softmax(z_i)[t_i] = logsumexp(z_i) − z_i[t_i]   z (N, C), t (N,)

    dz_i = (softmax(z_i) − onehot(t_i)) · g_i   (g_i = g / N for 'mean').
    """
    @staticmethod
    def forward(ctx, logits, target, reduction):
        xp = get_array_module(logits)
        rows = xp.arange(logits.shape[0])
        shifted = logits - logits.max(axis=1, keepdims=True)   # e^(z − max) ≤ 1: no overflow
        log_sum = xp.log(xp.exp(shifted).sum(axis=1))
        losses = log_sum - shifted[rows, target]
        ctx.save_for_backward(shifted, log_sum, target)
        ctx.reduction = reduction
        if reduction == "none":
            return losses
        total = losses.sum()
        return total / logits.shape[0] if reduction == "mean" else total

    @staticmethod
    def backward(ctx, g):
        shifted, log_sum, target = ctx.saved
        xp = get_array_module(shifted)
        grad = xp.exp(shifted - log_sum[:, None])      # softmax
        grad[xp.arange(grad.shape[0]), target] -= 1
        if ctx.reduction == "none":
            grad *= g[:, None]
        else:
            grad *= g / grad.shape[0] if ctx.reduction == "mean" else g
        return grad, None


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def cross_entropy(logits, target, reduction="mean"):
    """F.cross_entropy: logits z (N, C) of any magnitude, target t (N,) integer class indices -> loss
    () for 'mean'/'sum', (N,) for 'none';  dz = (softmax(z) − onehot(t)) · g  (/ N for 'mean')."""
    _check_reduction("cross_entropy", reduction)
    target = target if isinstance(target, Tensor) else Tensor(target)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: expected logits of shape (N, C), got {logits.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: expected integer class indices as target, got dtype "
                        f"{target.dtype} (use mse_loss for float targets, or target.long())")
    if target.shape != (logits.shape[0],):
        raise ValueError(f"cross_entropy: expected target of shape ({logits.shape[0]},) for logits "
                         f"{logits.shape}, got {target.shape}")
    if target.shape[0] and (int(target.data.min()) < 0 or int(target.data.max()) >= logits.shape[1]):
        raise ValueError(f"cross_entropy: target values must lie in [0, {logits.shape[1]}), got "
                         f"min {int(target.data.min())}, max {int(target.data.max())}")
    # target goes in as a Tensor so that apply() checks it is on the logits' device;
    # it never requires grad (backward returns None for it)
    return CrossEntropy.apply(logits, target, reduction=reduction)


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
        return squared.mean() if reduction == "mean" else squared.sum()

    @staticmethod
    def backward(ctx, g):
        diff = ctx.saved[0]
        scale = 2 / diff.size if ctx.reduction == "mean" else 2
        grad = diff * (g * scale)
        need_x, need_y = ctx.needs_input_grad
        return (grad if need_x else None), (-grad if need_y else None)


def mse_loss(x, target, reduction="mean"):
    """F.mse_loss: x, y of one shape (nothing is broadcast) -> mean or sum of (x − y)², or
    (x − y)² for 'none';  dx = 2 (x − y) · g  (/ n for 'mean'),  dy = −dx."""
    _check_reduction("mse_loss", reduction)
    if x.shape != target.shape:
        raise ValueError(f"mse_loss: input shape {x.shape} and target shape {target.shape} differ")
    return MSE.apply(x, target, reduction=reduction)
