"""The fast ReLU, Softmax and LogSoftmax, which replace core/activation.py's while
minitorch_cnn.backends.fast is enabled (LeakyReLU, Tanh and Sigmoid have no replacement:
the core ones run in both modes).  tests/test_core_activations_loss_linear.py holds them
equal to the core's.

Departures from core.activation:
  ReLU
  * the forward takes the max against a zeros array (NumPy vectorises only array-array
    maxima) and the backward multiplies g by one mask built in place, where the core selects
    with where: the two differ only where g is ±inf or NaN at x ≤ 0 (inf · 0 = NaN here, 0 in
    the core and in torch).
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
class Softmax(core_activation.Softmax):
    """The core Softmax (its backward unchanged), and an empty input gives an empty output."""
    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:       # max() has nothing to reduce over; the result is empty anyway
            ctx.save_for_backward(x)
            ctx.dim = dim
            return get_array_module(x).empty_like(x)
        return core_activation.Softmax.forward(ctx, x, dim)


@replaces(core_activation.LogSoftmax)
class LogSoftmax(core_activation.LogSoftmax):
    """The core LogSoftmax (its backward unchanged), and an empty input gives an empty output."""
    @staticmethod
    def forward(ctx, x, dim):
        if x.size == 0:
            ctx.save_for_backward(x)
            ctx.dim = dim
            return get_array_module(x).empty_like(x)
        return core_activation.LogSoftmax.forward(ctx, x, dim)
