"""The fast ReLU, Softmax and LogSoftmax, which replace core/activation.py's while
minitorch_cnn.backends.fast is enabled (LeakyReLU, Tanh and Sigmoid have no replacement:
the core ones run in both modes).  tests/test_core_activations_loss_linear.py holds them
equal to the core's.

Departures from core.activation:
  ReLU
  * the forward takes the max against a zeros array (NumPy vectorises only array-array
    maxima) and the backward builds one mask in place;
  * a NaN input passes its gradient through, as torch's threshold_backward does
    (the mask is [not out ≤ 0] where the core's is [out > 0]).
  Softmax, LogSoftmax
  * an empty input returns an empty output (the core's max has nothing to reduce over).
"""
from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import activation as core_activation
from ..core.autograd import Function


@replaces(core_activation.ReLU)
class ReLU(Function):
    """out = max(x, 0);  dx = g · [not out ≤ 0]  (0 at x = 0, and g passes where x is NaN, as torch)."""
    @staticmethod
    def forward(ctx, x):
        xp = get_array_module(x)
        # max against a zeros array, not the scalar 0: NumPy's maximum only vectorises
        # when both operands are arrays (about 2.5× faster here, even counting the zeros).
        out = xp.zeros_like(x)
        xp.maximum(x, out, out=out)
        ctx.save_for_backward(out)   # the output lives on anyway as the next layer's input
        return out

    @staticmethod
    def backward(ctx, g):
        # torch's threshold_backward zeroes g where out ≤ 0; NaN ≤ 0 is false, so a NaN input
        # lets the gradient through ([out > 0] would block it).
        xp = get_array_module(g)
        blocked = xp.asarray(ctx.saved[0] <= 0)     # (a 0-d comparison gives a NumPy scalar)
        xp.logical_not(blocked, out=blocked)   # one mask, not a second for ~
        return (g * blocked,)


@replaces(core_activation.Softmax)
class Softmax(Function):
    """out = eˣ / Σ_dim eˣ;  dx = out · (g − Σ_dim g · out)."""
    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        if x.size == 0:       # max() has nothing to reduce over; the result is empty anyway
            out = xp.empty_like(x)
        else:
            e = xp.exp(x - x.max(axis=dim, keepdims=True))   # shift by the max: no overflow
            out = e / e.sum(axis=dim, keepdims=True)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        return (out * (g - (g * out).sum(axis=ctx.dim, keepdims=True)),)


@replaces(core_activation.LogSoftmax)
class LogSoftmax(Function):
    """out = x − log Σ_dim eˣ;  dx = g − softmax(x) · Σ_dim g."""
    @staticmethod
    def forward(ctx, x, dim):
        xp = get_array_module(x)
        if x.size == 0:
            out = xp.empty_like(x)
        else:
            shifted = x - x.max(axis=dim, keepdims=True)
            out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved[0]
        xp = get_array_module(g)
        return (g - xp.exp(out) * g.sum(axis=ctx.dim, keepdims=True),)
