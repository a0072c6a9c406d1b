"""The fast Dropout, which replaces core/dropout.py's while minitorch_cnn.backends.fast is
enabled.  tests/test_core_activations_loss_linear.py holds the two to the same masks.

Departures from core.dropout:
  Dropout
  * float16: the generator draws float32 or float64 only, so a float16 mask comes from a
    float32 draw (the core draws in x's dtype, and so takes float32 and float64 only).
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import replaces
from ..core import dropout as core_dropout
from ..core.autograd import Function
from ..random import rng_for


@replaces(core_dropout.Dropout)
class Dropout(Function):
    """out = x · m,  m = [u ≥ p] / (1 − p) with u ~ U[0, 1) of shape mask_shape (x's shape, or
    (N, C, 1, ...) for channels, broadcast over the rest);  dx = g · m."""
    @staticmethod
    def forward(ctx, x, p, mask_shape):
        xp = get_array_module(x)
        # The generator draws float32 or float64 only; float16 masks come from float32 draws.
        draw_dtype = x.dtype if x.dtype in (np.float32, np.float64) else np.float32
        keep = rng_for(xp).random(mask_shape, dtype=draw_dtype) >= p
        mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.saved[0],)
