"""Batch normalisation over (N, C, *), one channel at a time (docs/08_batchnorm.md)."""
from ..backend import get_array_module
from .autograd import Function


class BatchNorm(Function):
    """x (N, C, *) -> y, same shape; weight w, bias b, running_mean, running_var: (C,) or None.

    Per channel, over its m values (every axis but C):
        μ = Σ x / m,   σ² = Σ (x − μ)² / m,   x̂ = (x − μ) / √(σ² + eps),   y = w · x̂ + b.
    Training uses the batch's μ and σ² and updates the running statistics in place,
        running_mean ← (1 − momentum) · running_mean + momentum · μ
        running_var  ← (1 − momentum) · running_var  + momentum · σ² · m / (m − 1);
    evaluation uses the running statistics as μ and σ².
    Backward:  db = Σ g,  dw = Σ g · x̂,  and
        training:    dx = w / √(σ² + eps) · (g − mean(g) − x̂ · mean(g · x̂))
        evaluation:  dx = w / √(σ² + eps) · g   (μ and σ² are constants).
    """
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps):
        axes, channel = (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)
        if training:
            mean, var = x.mean(axis=axes), x.var(axis=axes)     # σ² biased: divided by m
            m = x.size // x.shape[1]
            if running_mean is not None:
                running_mean[...] = (1 - momentum) * running_mean + momentum * mean
                running_var[...] = (1 - momentum) * running_var + momentum * var * m / (m - 1)
        else:
            mean, var = running_mean, running_var
        inv_std = 1 / get_array_module(x).sqrt(var + eps)
        x_hat = (x - mean.reshape(channel)) * inv_std.reshape(channel)
        y = x_hat if weight is None else x_hat * weight.reshape(channel)
        if bias is not None:
            y = y + bias.reshape(channel)
        ctx.training = training
        ctx.save_for_backward(x_hat, inv_std, weight)
        return y

    @staticmethod
    def backward(ctx, g):
        x_hat, inv_std, weight = ctx.saved
        axes, channel = (0,) + tuple(range(2, g.ndim)), (1, -1) + (1,) * (g.ndim - 2)
        grad_bias = g.sum(axis=axes)
        grad_weight = (g * x_hat).sum(axis=axes)
        scale = inv_std if weight is None else weight * inv_std
        if ctx.training:
            m = g.size // g.shape[1]
            g = g - grad_bias.reshape(channel) / m - x_hat * (grad_weight.reshape(channel) / m)
        grad_x = scale.reshape(channel) * g
        _, need_weight, need_bias = ctx.needs_input_grad
        return grad_x, grad_weight if need_weight else None, grad_bias if need_bias else None
