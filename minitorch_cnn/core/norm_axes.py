"""Normalisation over other axes: layer, group and instance norm (docs/13_normalisation_axes.md).

Batch norm (core/norm.py) standardises each channel over the axes (N, H, W).  Its derivation
(docs/08_batchnorm.md) never used which axes those were: for any set of m values that share
one μ and one σ², with x̂ = (x − μ) · s and s = 1/√(σ² + eps), a gradient dx̂ comes back as

    dx = s · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂))        (means over the same m values)

The norms differ only in which values share the statistics, for x (N, C, H, W):

    batch norm       per channel c,                        over N, H, W
    layer norm       per sample n,                         over the last k axes (C, H, W for k = 3)
    group norm       per sample n and group of C/G channels, over those channels' H, W
    instance norm    per sample n and channel c,           over H, W (group norm with G = C)
"""
from ..backend import get_array_module
from .autograd import Function


def standardize(x, axes, eps):
    """x̂ = (x − μ) · s, s = 1/√(σ² + eps), with μ and the biased σ² over `axes` (divided by m).
    Returns x̂ (x's shape) and s (x's shape with the `axes` of size 1)."""
    centered = x - x.mean(axis=axes, keepdims=True)
    inv_std = 1 / get_array_module(x).sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    return centered * inv_std, inv_std


def standardize_backward(d_x_hat, x_hat, inv_std, axes):
    """dx from dx̂ through x̂ = (x − μ) · s, the three paths (direct, μ, σ²) of docs/08 summed:
    dx = s · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), the means over `axes`."""
    mean_d = d_x_hat.mean(axis=axes, keepdims=True)
    mean_d_x_hat = (d_x_hat * x_hat).mean(axis=axes, keepdims=True)
    return inv_std * (d_x_hat - mean_d - x_hat * mean_d_x_hat)


def grouped(x, num_groups):
    """x (N, C, *) seen as (N, G, C/G · Π*): one row per sample and group of C/G channels."""
    size = 1
    for d in x.shape[1:]:
        size *= d
    return x.reshape(x.shape[0], num_groups, size // num_groups)


class LayerNorm(Function):
    """x (*, D₁ … D_k) -> y, same shape; weight w, bias b: (D₁ … D_k) or None.

    Per leading index, over its m = D₁ · … · D_k values (the last k axes):
        x̂ = (x − μ) · s,   y = w · x̂ + b        (w and b vary along the normalised axes).
    Backward, with the sums over the leading axes:
        db = Σ g,   dw = Σ g · x̂,   dx = standardize_backward(w · g)
    w varies inside the set of m values, so it stays inside: dx̂ = w · g.
    """
    @staticmethod
    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        ctx.axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
        x_hat, inv_std = standardize(x, ctx.axes, eps)
        ctx.save_for_backward(x_hat, inv_std, weight)
        y = x_hat if weight is None else x_hat * weight
        return y if bias is None else y + bias

    @staticmethod
    def backward(ctx, g):
        x_hat, inv_std, weight = ctx.saved
        leading = tuple(range(g.ndim - len(ctx.axes)))
        d_x_hat = g if weight is None else g * weight
        grad_x = standardize_backward(d_x_hat, x_hat, inv_std, ctx.axes)
        _, need_weight, need_bias = ctx.needs_input_grad
        return (grad_x, (g * x_hat).sum(axis=leading) if need_weight else None,
                g.sum(axis=leading) if need_bias else None)


class GroupNorm(Function):
    """x (N, C, *) -> y, same shape; weight w, bias b: (C,) or None; G = num_groups divides C.

    Per sample n and group of C/G channels, over its m = C/G · Π* values (`grouped`):
        x̂ = (x − μ) · s,   y = w_c · x̂ + b_c      (one w_c, b_c per channel, as batch norm).
    Backward, with the sums over N and *:
        db = Σ g,   dw = Σ g · x̂,   dx = standardize_backward(w_c · g) within each group
    (a group holds C/G channels, so w_c varies inside it and stays inside dx̂ = w_c · g).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps):
        x_hat, inv_std = standardize(grouped(x, num_groups), (2,), eps)
        x_hat, channel = x_hat.reshape(x.shape), (1, -1) + (1,) * (x.ndim - 2)
        ctx.num_groups = num_groups
        ctx.save_for_backward(x_hat, inv_std, weight)
        y = x_hat if weight is None else x_hat * weight.reshape(channel)
        return y if bias is None else y + bias.reshape(channel)

    @staticmethod
    def backward(ctx, g):
        x_hat, inv_std, weight = ctx.saved
        axes, channel = (0,) + tuple(range(2, g.ndim)), (1, -1) + (1,) * (g.ndim - 2)
        d_x_hat = g if weight is None else g * weight.reshape(channel)
        grad_x = standardize_backward(grouped(d_x_hat, ctx.num_groups), grouped(x_hat, ctx.num_groups),
                                      inv_std, (2,)).reshape(g.shape)
        _, need_weight, need_bias = ctx.needs_input_grad
        return (grad_x, (g * x_hat).sum(axis=axes) if need_weight else None,
                g.sum(axis=axes) if need_bias else None)


class InstanceNorm(GroupNorm):
    """x (N, C, *) -> y: GroupNorm with one group per channel (G = C), so per sample and channel
    over the m = Π* values of *.  The backward is GroupNorm's.

    Given running_mean and running_var (C,), it updates them in place with the batch's average
    of the per-(n, c) statistics, the variance unbiased (· m / (m − 1)) as in batch norm:
        running_mean ← (1 − momentum) · running_mean + momentum · mean_n(μ)
        running_var  ← (1 − momentum) · running_var  + momentum · mean_n(σ² · m / (m − 1))
    """
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        if running_mean is not None:
            axes = tuple(range(2, x.ndim))
            mean, var = x.mean(axis=axes).mean(axis=0), x.var(axis=axes, ddof=1).mean(axis=0)
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
            running_var[...] = (1 - momentum) * running_var + momentum * var
        return GroupNorm.forward(ctx, x, weight, bias, x.shape[1], eps)
