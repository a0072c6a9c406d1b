"""Upsampling (and downsampling) by interpolation, x (N, C, H, W) -> (N, C, out_h, out_w), and
likewise with one or three spatial axes (docs/14_upsampling.md).  Every mode is separable: a
resample along the width, then one along the height (then the depth).  Along one axis each
output index o reads a few input indices ("taps") with weights:

    nearest    one tap:    i(o) = min(⌊o · r⌋, in − 1),                weight 1
    linear     two taps:   i0 = min(⌊s⌋, in − 1), i1 = min(i0 + 1, in − 1),
                           weights 1 − λ and λ, λ = s − i0 (clipped to [0, 1])
    cubic      four taps:  i0 − 1 … i0 + 2 (clamped), Keys' cubic weights of s − i0

with r the ratio in/out (or 1/scale_factor) and s the source position of o.  The backward is
each step's adjoint: every output gradient goes back to the taps it read, times their weights.
"""
from ..backend import get_array_module
from .autograd import Function


def nearest_taps(in_size, out_size, scale_factor, xp, dtype=None, exact=False):
    """[(index, None)]: nearest's one tap per output index along one axis, i(o) = min(⌊o · r⌋, in − 1),
    r = 1 / scale_factor when one is given, else in / out; exact ("nearest-exact"): the pixel whose
    area holds the output's centre, i(o) = min(⌊(o + ½) · r⌋, in − 1).  As torch's kernels: r and
    the product in float32, and plain nearest takes out == in (the identity) and out == 2·in
    (i = o // 2) without rounding; torch's 1-D kernel (dtype given) computes in that dtype, with no
    shortcut.  ⌊⌋ of the product rounded to float32 (torch's floorf)."""
    index = xp.arange(out_size)
    if dtype is None and not exact and out_size == 2 * in_size:
        return [(index // 2, None)]
    if dtype is None and not exact and out_size == in_size:
        return [(index, None)]
    real = dtype.type if dtype is not None else xp.float32
    ratio = real(1.0 / scale_factor) if scale_factor else real(in_size) / real(out_size)
    position = ((xp.arange(out_size, dtype=real) + real(0.5 if exact else 0)) * ratio).astype(xp.float32)
    return [(xp.minimum(xp.floor(position).astype(xp.int64), in_size - 1), None)]


def source_positions(in_size, out_size, align_corners, scale_factor, xp, dtype):
    """The source position s of every output index o along one axis (in `dtype`, as torch):
        align_corners:      s = o · (in − 1)/(out − 1)           (the corner pixels' centres meet)
        otherwise:          s = (o + ½) · r − ½,  r = 1/scale_factor or in/out (pixel areas meet)"""
    real = dtype.type
    if align_corners:
        ratio = real(in_size - 1) / real(out_size - 1) if out_size > 1 else real(0)
        return xp.arange(out_size, dtype=dtype) * ratio
    ratio = real(1.0 / scale_factor) if scale_factor else real(in_size) / real(out_size)
    return (xp.arange(out_size, dtype=dtype) + real(0.5)) * ratio - real(0.5)


def linear_taps(in_size, out_size, align_corners, scale_factor, xp, dtype):
    """[(i0, 1 − λ), (i1, λ)]: linear interpolation's two taps per output index along one axis,
    at the source positions s (source_positions), clipped at 0 where align_corners is off.
    i0 = min(⌊s⌋, in − 1), i1 = i0 + 1 (i0 at the last pixel), λ = clip(s − i0, 0, 1).
    out == in is the identity (torch's shortcut, even with a scale_factor)."""
    index = xp.arange(out_size)
    if out_size == in_size:
        return [(index, xp.ones(out_size, dtype=dtype)), (index, xp.zeros(out_size, dtype=dtype))]
    real = dtype.type
    source = source_positions(in_size, out_size, align_corners, scale_factor, xp, dtype)
    if not align_corners:
        source = xp.maximum(source, real(0))
    i0 = xp.minimum(xp.floor(source).astype(xp.int64), in_size - 1)
    i1 = xp.minimum(i0 + 1, in_size - 1)
    lam = xp.clip(source - i0.astype(dtype), 0, 1).astype(dtype)
    return [(i0, real(1) - lam), (i1, lam)]


def cubic_taps(in_size, out_size, align_corners, scale_factor, xp, dtype, a=-0.75):
    """[(i0 − 1, w0), (i0, w1), (i0 + 1, w2), (i0 + 2, w3)]: bicubic's four taps per output index
    along one axis (indices clamped into [0, in − 1]).  Source positions s from source_positions,
    not clipped at 0; i0 = min(⌊s⌋, in − 1), t = clip(s − i0, 0, 1).  Keys' cubic convolution
    with a = −0.75 (torch's): w1 = k1(t), w2 = k1(1 − t), w0 = k2(t + 1), w3 = k2(2 − t), where
        k1(d) = ((a + 2)·d − (a + 3))·d² + 1           for |d| ≤ 1
        k2(d) = ((a·d − 5a)·d + 8a)·d − 4a             for 1 < |d| < 2."""
    real = dtype.type
    source = source_positions(in_size, out_size, align_corners, scale_factor, xp, dtype)
    i0 = xp.minimum(xp.floor(source).astype(xp.int64), in_size - 1)
    t = xp.clip(source - i0.astype(dtype), 0, 1).astype(dtype)
    k1 = lambda d: ((real(a + 2) * d - real(a + 3)) * d) * d + real(1)               # noqa: E731
    k2 = lambda d: ((real(a) * d - real(5 * a)) * d + real(8 * a)) * d - real(4 * a)  # noqa: E731
    weights = (k2(t + real(1)), k1(t), k1(real(1) - t), k2(real(2) - t))
    return [(xp.clip(i0 + k - 1, 0, in_size - 1), w) for k, w in enumerate(weights)]


def resample_last(a, taps):
    """a (..., in) -> (..., out): out[..., o] = Σ_taps weight[o] · a[..., index[o]] (weight None: 1)."""
    out = None
    for index, weight in taps:
        term = a[..., index] if weight is None else a[..., index] * weight
        out = term if out is None else out + term
    return out


def resample_last_adjoint(g, in_size, taps):
    """resample_last's adjoint, g (..., out) -> da (..., in):
        da[..., i] = Σ_taps Σ_{o : index[o] = i} weight[o] · g[..., o]
    One output index at a time: indices repeat (upsampling), so a plain fancy += would lose sums."""
    xp = get_array_module(g)
    da = xp.zeros(g.shape[:-1] + (in_size,), dtype=g.dtype)
    for index, weight in taps:
        share = g if weight is None else g * weight
        for o, i in enumerate(index.tolist()):
            da[..., i] += share[..., o]
    return da


class _Separable(Function):
    """x (N, C, *spatial) resampled along each spatial axis in turn, the last (the width) first:
    per plane out = R_h · x · R_wᵀ in 2-D.  dx: each step's adjoint, in reverse order
    (dx = R_hᵀ · g · R_w)."""
    @staticmethod
    def run(ctx, x, taps):
        """taps: one list of taps per spatial axis of x, in axis order."""
        ctx.taps, ctx.x_shape = taps, x.shape
        out = x
        for axis in reversed(range(2, x.ndim)):
            out = resample_last(out.swapaxes(axis, -1), taps[axis - 2]).swapaxes(axis, -1)
        return get_array_module(x).ascontiguousarray(out)

    @staticmethod
    def backward(ctx, g):
        for axis in range(2, g.ndim):
            size, taps = ctx.x_shape[axis], ctx.taps[axis - 2]
            g = resample_last_adjoint(g.swapaxes(axis, -1), size, taps).swapaxes(axis, -1)
        return (g,)


class UpsampleNearest(_Separable):
    """x (N, C, *spatial), 1 to 3 spatial axes -> (N, C, *output_size):
    out[n, c, oy, ox] = x[n, c, i_h(oy), i_w(ox)] in 2-D (nearest_taps per axis; scale_factors: one
    per axis or None; one_dim_dtype: the dtype torch's 1-D kernel computes in, for (N, C, L) input;
    exact: mode "nearest-exact").

    dx[n, c, y, x] = Σ over the outputs that copied pixel (y, x) of g[n, c, oy, ox].
    """
    @staticmethod
    def forward(ctx, x, output_size, scale_factors, one_dim_dtype=None, exact=False):
        xp = get_array_module(x)
        return _Separable.run(ctx, x, [nearest_taps(size, out, s, xp, one_dim_dtype, exact)
                                       for size, out, s in zip(x.shape[2:], output_size, scale_factors)])


class UpsampleLinear(_Separable):
    """Linear, bilinear, trilinear: x (N, C, *spatial) -> (N, C, *output_size), linear_taps
    (i0, i1, λ) per axis.  In 2-D:

        out[oy, ox] = (1 − λ_h)·((1 − λ_w)·x[i0_h, i0_w] + λ_w·x[i0_h, i1_w])
                    +      λ_h ·((1 − λ_w)·x[i1_h, i0_w] + λ_w·x[i1_h, i1_w])

    dx: each g[oy, ox] added to its four taps with the same weights, e.g. dx[i0_h, i0_w] += (1 − λ_h)(1 − λ_w)·g.
    """
    @staticmethod
    def forward(ctx, x, output_size, align_corners, scale_factors):
        xp = get_array_module(x)
        return _Separable.run(ctx, x, [linear_taps(size, out, align_corners, s, xp, x.dtype)
                                       for size, out, s in zip(x.shape[2:], output_size, scale_factors)])


class UpsampleBicubic2d(_Separable):
    """x (N, C, H, W) -> (N, C, out_h, out_w): cubic_taps per axis, 4 × 4 pixels per output,
    out[oy, ox] = Σ_{k,l} w_h,k[oy] · w_w,l[ox] · x[i_h,k(oy), i_w,l(ox)].

    dx: each g[oy, ox] added to its sixteen taps with the same weights (clamped taps repeat a
    border pixel, which then collects their sum).
    """
    @staticmethod
    def forward(ctx, x, output_size, align_corners, scale_factors):
        xp = get_array_module(x)
        return _Separable.run(ctx, x, [cubic_taps(size, out, align_corners, s, xp, x.dtype)
                                       for size, out, s in zip(x.shape[2:], output_size, scale_factors)])
