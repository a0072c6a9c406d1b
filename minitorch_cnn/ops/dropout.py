"""Inverted dropout: zero elements (dropout) or whole channels (dropout2d) with probability p,
scale the rest by 1/(1 − p).

The API: torch's argument checks, warnings and edge cases, then the Dropout Function
(core/dropout.py, or fast/dropout.py's while the fast paths are on).
"""
import numbers
import warnings

from ..backend import get_array_module
from ..backends.fast import choose
from ..core import dropout as core_dropout
from ..core.tensor import Tensor
from ..fast import dropout as _fast_dropout  # noqa: F401  (registers the fast Dropout)
from .checks import check_inplace, expect_tensor


def _check_p(p, op):
    if isinstance(p, bool):
        return float(p)          # torch takes True as 1 and False as 0
    if not isinstance(p, numbers.Real):
        raise TypeError(f"{op}: probability p must be a number, got {type(p).__name__}")
    if not 0 <= p <= 1:
        raise ValueError(f"{op}: probability p must be in [0, 1], got {p}")
    return float(p)


def _drop(x, p, training, op, mask_shape):
    if not training or p == 0 or x.array.size == 0:    # torch returns x itself in these cases
        return x
    if p == 1:
        if x.dtype.kind != "f":   # zeros of x's own dtype (bool stays bool), as torch
            return Tensor(get_array_module(x.array).zeros_like(x.array))
        return x * 0              # torch multiplies too: NaN and inf stay NaN
    if op == "dropout2d" and x.ndim < 2:
        raise RuntimeError(f"dropout2d: Feature dropout requires at least 2 dimensions in the input, "
                           f"got {x.shape}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: result type Float can't be cast to the desired output type "
                           f"{x.dtype} (dropout with 0 < p < 1 needs a floating point tensor)")
    return choose(core_dropout.Dropout, x).apply(x, p=p, mask_shape=mask_shape)


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002  (torch's parameter names)
    """F.dropout: x (any shape) -> x · m, same shape, m = [u ≥ p] / (1 − p), u ~ U[0, 1);
    dx = g · m.  Identity when not training or p = 0; x · 0 when p = 1.
    inplace=True gives the same values but computes out of place (x is left unchanged)."""
    x = expect_tensor(input, "dropout")
    p = _check_p(p, "dropout")
    check_inplace(x, "dropout", inplace)
    return _drop(x, p, training, "dropout", x.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """F.dropout2d: x (N, C, H, W) -> x · m, same shape, m (N, C, 1, 1) = [u ≥ p] / (1 − p): each
    channel of each sample kept whole or zeroed whole;  dx = g · m (m broadcast over H, W).

    As torch 2.13: a 3-D input is taken as (N, C, L) (channel-wise 1-D dropout, with torch's
    warning), other ranks ≥ 2 as (N, C, ...) with a deprecation warning, fewer than 2 dims
    are refused.  Identity when not training or p = 0; x · 0 when p = 1."""
    x = expect_tensor(input, "dropout2d")
    p = _check_p(p, "dropout2d")
    check_inplace(x, "dropout2d", inplace)
    if x.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim (as torch 2.13)", UserWarning, stacklevel=2)
    elif x.ndim != 4:
        warnings.warn(f"dropout2d: Received a {x.ndim}-D input to dropout2d, which is deprecated "
                      f"(as torch); dropout2d expects (N, C, H, W) or (C, H, W)", UserWarning, stacklevel=2)
    return _drop(x, p, training, "dropout2d", x.shape[:2] + (1,) * (x.ndim - 2))
