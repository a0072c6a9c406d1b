"""F.pad: constant padding (and cropping, with negative widths) of a tensor's last dimensions.

pad = (left, right) for the last dim, then (top, bottom) for the one before, ... as torch.
mode="constant" fills the border with a value; "reflect", "replicate" and "circular" take it from
the input itself (IndexPad: each output position reads one input position per padded dim).
"""
import numbers

import numpy as np

from ..backend import get_array_module
from ..core.autograd import Function
from .checks import expect_tensor


class ConstantPad(Function):
    """x (..., d_k, ..., d_n) -> (..., d_k + a_k + b_k, ..., d_n + a_n + b_n): `before`/`after` widths
    per dim (negative: that many elements cropped), new elements = value.
    dx = g with the added border sliced off and zeros where x was cropped."""

    @staticmethod
    def forward(ctx, x, widths, value):
        xp = get_array_module(x)
        ctx.widths, ctx.shape = widths, x.shape
        cropped = x[tuple(slice(max(-a, 0), n - max(-b, 0)) for (a, b), n in zip(widths, x.shape))]
        grow = [(max(a, 0), max(b, 0)) for a, b in widths]
        return xp.pad(cropped, grow, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        inner = g[tuple(slice(max(a, 0), g.shape[i] - max(b, 0)) for i, (a, b) in enumerate(ctx.widths))]
        return (xp.pad(inner, [(max(-a, 0), max(-b, 0)) for a, b in ctx.widths], mode="constant"),)


class IndexPad(Function):
    """Padding by reading the input: along padded dim d, output j = x[idx_d[j]] (idx_d from the
    mode: reflect, replicate or circular), so the border repeats input values.
    dx: along each dim, g (.., m) @ M_d with M_d[j, i] = [idx_d[j] = i] (m × n): each input position
    gets the sum of the gradients of every output position that read it."""

    @staticmethod
    def forward(ctx, x, indices):
        xp = get_array_module(x)
        ctx.indices, ctx.sizes = indices, x.shape
        for axis, idx in indices:
            x = xp.take(x, xp.asarray(idx), axis=axis)
        return x

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        for axis, idx in reversed(ctx.indices):
            n = ctx.sizes[axis]
            reads = (xp.asarray(idx)[:, None] == xp.arange(n)[None, :]).astype(g.dtype)   # M (m, n)
            g = xp.moveaxis(xp.moveaxis(g, axis, -1) @ reads, -1, axis)
        return (g,)


def _source_positions(mode, n, before, after):
    """For each output position j of a dim of size n, the input position it reads: j − before,
    brought into [0, n) as the mode says (a negative width starts or stops inside the input).
    circular crops first, as torch: the m kept elements then wrap among themselves."""
    if mode == "circular":
        start, stop = max(-before, 0), n - max(-after, 0)
        before, after, m = max(before, 0), max(after, 0), stop - start
        if m == 0:   # nothing kept: an empty output, or a tensor with no elements anyway
            return np.zeros(before + after, dtype=np.intp)
        return (np.arange(m + before + after) - before) % m + start
    position = np.arange(n + before + after) - before
    if mode == "replicate":
        return np.clip(position, 0, n - 1)
    position = np.abs(position)                             # reflect, about the first and last element
    return np.where(position > n - 1, 2 * (n - 1) - position, position)


def _index_pad(x, pad, mode, value):
    if value is not None and value != 0:
        raise RuntimeError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pad) // 2
    if dims not in (1, 2, 3) or x.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for {x.ndim}D input "
                                  f"tensor with mode={mode!r} (a {2 * dims}-element pad needs a "
                                  f"{dims + 1}-D or {dims + 2}-D input)")
    # torch's reflect and replicate kernels take a batch of size 0, no other empty dimension
    if mode != "circular" and 0 in x.shape[x.ndim - dims - 1:]:
        raise RuntimeError(f"pad: mode={mode!r} expects an input whose sizes are non-zero (but for the batch, "
                           f"its first of {dims + 2} dims), got shape {x.shape}")
    indices = []
    for k in range(dims):
        axis = x.ndim - 1 - k
        before, after, n = int(pad[2 * k]), int(pad[2 * k + 1]), x.shape[axis]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"pad: padding size should be less than the corresponding input dimension, "
                               f"but got padding ({before}, {after}) at dimension {axis} of input {x.shape}")
        if mode == "circular" and (before > n or after > n):
            raise RuntimeError("pad: padding value causes wrapping around more than once")
        size, kept = n + before + after, n - max(-before, 0) - max(-after, 0)
        if size < 0:
            raise RuntimeError(f"pad: the padding {pad} leaves dimension {axis} of input {x.shape} with "
                               f"{size} elements")
        # torch copies a circular border out of the kept part: one wider than it overlaps its own
        # source, which torch refuses (or, where it cannot tell, fills from memory it overwrote)
        if mode == "circular" and size and x.numel() and max(before, after) > kept:
            raise RuntimeError(f"pad: circular padding ({before}, {after}) at dimension {axis} of input "
                               f"{x.shape} is wider than the {kept} elements the padding keeps")
        indices.append((axis, _source_positions(mode, n, before, after)))
    if mode != "circular" and all(len(idx) == 0 for _, idx in indices):   # torch: one size must stay
        raise RuntimeError(f"pad: input of shape {x.shape} is too small for padding {pad}: every padded "
                           f"dimension would be empty")
    return IndexPad.apply(x, indices=tuple(indices))


def pad(input, pad, mode="constant", value=None):  # noqa: A002  (torch's parameter names)
    """F.pad(input, pad, mode="constant", value=None): input (*, d_1, ..., d_k) -> (*, d_1 + ..., ...),
    pad = (left_k, right_k, left_{k-1}, right_{k-1}, ...) from the last dim back; value (0 when
    None) fills the border, cast to input's dtype (truncated for integers, as torch).
    dx = g without the border (see ConstantPad)."""
    x = expect_tensor(input, "pad")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}")
    pad = tuple(pad)
    if not all(isinstance(w, numbers.Integral) and not isinstance(w, bool) for w in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise RuntimeError("pad: padding length must be divisible by 2")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(f"pad: padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension {x.ndim}")
    if value is not None and not isinstance(value, numbers.Number):
        raise TypeError(f"pad: value must be a number, got {type(value).__name__}")
    if mode != "constant":
        return _index_pad(x, pad, mode, value)
    pairs = [(int(pad[i]), int(pad[i + 1])) for i in range(0, len(pad), 2)][::-1]   # first dim first
    widths = ((0, 0),) * (x.ndim - len(pairs)) + tuple(pairs)
    for (a, b), n in zip(widths, x.shape):
        if n + a + b < 0 or (a < 0 and -a > n) or (b < 0 and -b > n):
            raise RuntimeError(f"pad: the padding {pad} would give a negative size for input of shape {x.shape}")
    return ConstantPad.apply(x, widths=widths, value=0 if value is None else value)
