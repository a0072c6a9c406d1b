"""More losses, elementwise terms then a reduction: binary cross-entropy (on probabilities and on
logits), L1, smooth L1, Huber and the Kullback-Leibler divergence.

Each is loss = reduce(ℓ(x, y)) with ℓ taken elementwise and reduce one of 'none' (ℓ itself),
'sum' (Σ ℓ) or 'mean' (Σ ℓ / n, n the number of elements: NaN when there are none), so every
backward is dx = g' · ∂ℓ/∂x with g' = g ('none', elementwise), g ('sum') or g / n ('mean'),
broadcast to x's shape; likewise dy.  x and y arrive with one shape (the API broadcasts them).
"""
import math

from ..backend import get_array_module
from .autograd import Function


def reduce(losses, reduction):
    """ℓ -> ℓ ('none'), Σ ℓ ('sum'), Σ ℓ / n ('mean')."""
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total / losses.dtype.type(losses.size)


def spread(g, shape, reduction):
    """The reduction's backward: g' of the module docstring, shaped like the elementwise losses."""
    if reduction == "none":
        return g
    if reduction == "mean":
        g = g / g.dtype.type(max(1, math.prod(shape)))    # (an empty x has no element to spread to)
    return get_array_module(g).broadcast_to(g, shape)


_EPSILON = 9.999999960041972e-13     # torch's 1e-12 for BCE's dx, as a float32 constant


def log_sigmoid(x):
    """log σ(x) = −log(1 + e⁻ˣ) = −(max(−x, 0) + log(1 + e^(−|x|))): no overflow for any x."""
    return -get_array_module(x).logaddexp(0, -x)


class BCEWithLogits(Function):
    """z logits, y targets (one shape), w weight and p pos_weight (None, or broadcasting to z) ->
    ℓ = w · ((1 − y) · z − (1 + (p − 1) · y) · log σ(z))      (p = 1 without pos_weight)
    which is −w · (p · y · log σ(z) + (1 − y) · log(1 − σ(z))), since log(1 − σ(z)) = log σ(z) − z;
    log σ never overflows, so any logit is safe.  With q = 1 + (p − 1) · y:
    dz = g' · w · (q · σ(z) − p · y),   dy = −g' · w · (z + (p − 1) · log σ(z))."""
    @staticmethod
    def forward(ctx, z, y, weight, pos_weight, reduction):
        xp = get_array_module(z)
        log_sig = log_sigmoid(z)
        q = 1 if pos_weight is None else 1 + (pos_weight - 1) * y
        losses = (1 - y) * z - q * log_sig
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(z, y, weight, pos_weight, log_sig)
        ctx.reduction = reduction
        return reduce(xp.broadcast_to(losses, z.shape), reduction)

    @staticmethod
    def backward(ctx, g):
        z, y, weight, pos_weight, log_sig = ctx.saved
        xp = get_array_module(z)
        g = spread(g, z.shape, ctx.reduction) * (1 if weight is None else weight)
        sigmoid = xp.exp(log_sig)
        if pos_weight is None:
            return g * (sigmoid - y), -g * z, None, None
        q = 1 + (pos_weight - 1) * y
        return g * (q * sigmoid - pos_weight * y), -g * (z + (pos_weight - 1) * log_sig), None, None


class BCE(Function):
    """x probabilities in [0, 1], y targets (one shape), w weight (None, or broadcasting to x) ->
    ℓ = −w · (y · max(log x, −100) + (1 − y) · max(log(1 − x), −100))   (torch's clamp: finite at 0, 1),
    ε = 1e-12 rounded to float32 as torch's;
    dx = g' · w · (x − y) / max(x · (1 − x), ε),   dy = g' · w · (log(1 − x) − log x)."""
    @staticmethod
    def forward(ctx, x, y, weight, reduction):
        xp = get_array_module(x)
        log_x, log_1mx = xp.log(x), xp.log1p(-x)
        losses = -(y * xp.maximum(log_x, -100) + (1 - y) * xp.maximum(log_1mx, -100))
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(x, y, weight, log_x, log_1mx)
        ctx.reduction = reduction
        return reduce(losses, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y, weight, log_x, log_1mx = ctx.saved
        xp = get_array_module(x)
        g = spread(g, x.shape, ctx.reduction) * (1 if weight is None else weight)
        grad_x = g * (x - y) / xp.maximum(x * (1 - x), _EPSILON)
        return grad_x, g * (log_1mx - log_x), None


class L1(Function):
    """x, y (one shape) -> ℓ = |x − y|;  dx = g' · sign(x − y) (0 at x = y and for NaN, as torch),
    dy = −dx."""
    @staticmethod
    def forward(ctx, x, y, reduction):
        diff = x - y
        ctx.save_for_backward(diff)
        ctx.reduction = reduction
        return reduce(get_array_module(x).abs(diff), reduction)

    @staticmethod
    def backward(ctx, g):
        diff, = ctx.saved
        sign = (diff > 0).astype(diff.dtype) - (diff < 0).astype(diff.dtype)
        grad = spread(g, diff.shape, ctx.reduction) * sign
        return grad, -grad


class SmoothL1(Function):
    """x, y (one shape), β > 0 -> with d = x − y:  ℓ = d²/(2β) where |d| < β, else |d| − β/2;
    dx = g' · d/β where |d| ≤ β, else g' · sign(d);  dy = −dx.  (β = 0 is L1: the API sends it there.)"""
    @staticmethod
    def forward(ctx, x, y, beta, reduction):
        xp = get_array_module(x)
        diff = x - y
        size = xp.abs(diff)
        beta = x.dtype.type(beta)
        ctx.save_for_backward(diff)
        ctx.beta, ctx.reduction = beta, reduction
        return reduce(xp.where(size < beta, 0.5 * diff * diff / beta, size - 0.5 * beta), reduction)

    @staticmethod
    def backward(ctx, g):
        diff, = ctx.saved
        xp = get_array_module(diff)
        slope = xp.where(diff < -ctx.beta, -1, xp.where(diff > ctx.beta, 1, diff / ctx.beta))
        grad = spread(g, diff.shape, ctx.reduction) * slope
        return grad, -grad


class Huber(Function):
    """x, y (one shape), δ > 0 -> with d = x − y:  ℓ = d²/2 where |d| < δ, else δ · (|d| − δ/2)
    (δ times smooth L1 with β = δ);  dx = g' · d where |d| ≤ δ, else g' · δ · sign(d);  dy = −dx."""
    @staticmethod
    def forward(ctx, x, y, delta, reduction):
        xp = get_array_module(x)
        diff = x - y
        size = xp.abs(diff)
        delta = x.dtype.type(delta)
        ctx.save_for_backward(diff)
        ctx.delta, ctx.reduction = delta, reduction
        return reduce(xp.where(size < delta, 0.5 * diff * diff, delta * (size - 0.5 * delta)), reduction)

    @staticmethod
    def backward(ctx, g):
        diff, = ctx.saved
        xp = get_array_module(diff)
        slope = xp.where(diff < -ctx.delta, -ctx.delta, xp.where(diff > ctx.delta, ctx.delta, diff))
        grad = spread(g, diff.shape, ctx.reduction) * slope
        return grad, -grad


class KLDiv(Function):
    """x log-probabilities, y targets (one shape) -> ℓ = y · log y − y · x, with 0 · log 0 = 0
    (y probabilities), or ℓ = e^y · (y − x) (log_target: y log-probabilities);
    dx = −g' · y (or −g' · e^y);  dy = g' · (log y + y/y − x) (log y taken as 0 at y = 0, so dy is
    NaN there, as torch's), or g' · e^y · (y − x + 1) (log_target)."""
    @staticmethod
    def forward(ctx, x, y, log_target, reduction):
        xp = get_array_module(x)
        ctx.save_for_backward(x, y)
        ctx.log_target, ctx.reduction = log_target, reduction
        if log_target:
            return reduce(xp.exp(y) * (y - x), reduction)
        return reduce(xp.where(y == 0, 0, y * xp.log(y)) - y * x, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved
        xp = get_array_module(x)
        g = spread(g, x.shape, ctx.reduction)
        if ctx.log_target:
            e = xp.exp(y)
            return -g * e, g * e * (y - x + 1)
        return -g * y, g * (xp.where(y != 0, xp.log(y), 0) + y / y - x)
