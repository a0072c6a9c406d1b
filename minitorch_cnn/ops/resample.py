"""F.interpolate (F.upsample, F.upsample_nearest, F.upsample_bilinear): torch's argument checks,
output size and dtype rules, then core/resample.py's UpsampleNearest, UpsampleLinear or
UpsampleBicubic2d.

Built: modes "nearest" and "nearest-exact" on 3-D (N, C, L), 4-D (N, C, H, W) and 5-D
(N, C, D, H, W) input, "linear" on 3-D, "bilinear" and "bicubic" on 4-D, "trilinear" on 5-D, and
"area" on 3-D and 4-D (F.adaptive_avg_pool2d, as torch).  The rest (antialias=True, "lanczos",
5-D "area") raises NotImplementedError naming what is built.  Input dtypes as torch on the CPU:
float32 and float64; float16 computed in float32 and cast back; uint8 with the nearest modes (a
copy); every other dtype is refused as torch refuses it.  uint8 with the interpolating modes is
refused here (torch rounds it with fixed-point weights this engine does not model).
"""
import math
import numbers
import warnings

import numpy as np

from ..backends.fast import choose
from ..core import resample as core_resample
from .checks import expect_tensor
from .pool import adaptive_avg_pool2d
from .pairs import is_int

_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_TORCH_NAMES = {"int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
                "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64", "complex64": "ComplexFloat",
                "complex128": "ComplexDouble", "uint8": "Byte"}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,  # noqa: A002
                recompute_scale_factor=None, antialias=False):
    """F.interpolate: (N, C, H, W) -> (N, C, out_h, out_w) (or (N, C, L) -> (N, C, out_l), and 3 axes).
    size (int or one per spatial dim) or scale_factor (float or one per dim): out = ⌊in · s⌋,
    and the kernel then uses 1/s as its ratio unless recompute_scale_factor=True (ratio in/out).
    nearest: out[o] = x[min(⌊o · r⌋, in − 1)] (r in float32 for 4-D input, as torch; 3-D: in x's dtype);
    nearest-exact: x[min(⌊(o + ½) · r⌋, in − 1)]; area: F.adaptive_avg_pool2d to the output size;
    linear/bilinear/trilinear: the two neighbours' weighted mean per axis, source s = o·(in − 1)/(out − 1)
    with align_corners=True, else max((o + ½)·r − ½, 0); bicubic: four neighbours per axis, Keys' a = −0.75.
    dx = g carried back to the taps each output read, times their weights (summed where taps repeat)."""
    x = expect_tensor(input, "interpolate", "input")
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dims = x.ndim - 2
    # "area" always computes its size first (torch reuses the recompute_scale_factor path)
    recompute = recompute_scale_factor or (mode == "area" and size is None)
    output_size, scale_factors = _sizes(x, dims, size, scale_factor, recompute)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and x.ndim == 4):
        raise ValueError("interpolate: Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    _check_mode(x, mode, antialias)
    if mode in ("linear", "bilinear", "bicubic", "trilinear") and not isinstance(align_corners, (bool, np.bool_)):
        raise TypeError(f"interpolate: align_corners must be a bool, got {type(align_corners).__name__} "
                        f"{align_corners!r}")
    if mode == "area":   # the mean of each output pixel's window: adaptive average pooling
        if x.ndim == 3:
            return adaptive_avg_pool2d(x.unsqueeze(2), (1, *output_size)).squeeze(2)
        return adaptive_avg_pool2d(x, output_size)
    if output_size is None:   # torch's kernels: ⌊in · s⌋, in double
        output_size = [_to_int(size * f) for size, f in zip(x.shape[2:], scale_factors)]
    scales = tuple(scale_factors) if scale_factors is not None else (None,) * dims
    return _interpolate(x, output_size, scales, mode, bool(align_corners))


def _check_mode(x, mode, antialias):
    """torch's dispatch on (mode, dims): the pairs built here pass; a mode/dims pair torch refuses
    raises its NotImplementedError; the ones torch has and this engine has not, a NotImplementedError
    saying what is built."""
    built = {("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 3), ("nearest-exact", 4),
             ("nearest-exact", 5), ("area", 3), ("area", 4), ("linear", 3), ("bilinear", 4), ("bicubic", 4),
             ("trilinear", 5)}
    if (mode, x.ndim) in built and not antialias:
        return
    wanted = {"linear": 3, "bilinear": 4, "bicubic": 4, "lanczos": 4, "trilinear": 5}
    if x.ndim in (3, 4, 5) and mode in wanted and wanted[mode] != x.ndim:
        raise NotImplementedError(f"interpolate: Got {x.ndim}D input, but {mode} mode needs {wanted[mode]}D input")
    known = mode in ("nearest", "area", "nearest-exact") or mode in wanted
    if x.ndim not in (3, 4, 5) or not known:
        raise NotImplementedError(f"interpolate: Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: {_MODES} (got {mode})")
    raise NotImplementedError(f"interpolate: mode={mode!r}{' with antialias=True' if antialias else ''} on "
                              f"{x.ndim}-D input is not built in minitorch_cnn (built: nearest and nearest-exact on "
                              f"3-D to 5-D, area on 3-D and 4-D, linear on 3-D, bilinear and bicubic on 4-D, "
                              f"trilinear on 5-D; no antialias)")


def _sizes(x, dims, size, scale_factor, recompute_scale_factor):
    """-> (output_size, scale_factors): exactly one of them a list of one entry per spatial dim,
    as torch's interpolate leaves them for its kernels."""
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dims:
                raise ValueError(f"interpolate: Input and output must have the same number of spatial dimensions, "
                                 f"but got input with spatial dimensions of {list(x.shape[2:])} and output size "
                                 f"of {size}")
            if not all(is_int(v) for v in size):
                raise TypeError(f"interpolate: expected size to be one of int or Tuple[int] or Tuple[int, int], "
                                f"but got size with types {[type(v) for v in size]}")
            output_size = [int(v) for v in size]
        elif is_int(size):
            output_size = [int(size)] * dims
        else:
            raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {type(size).__name__} {size!r}")
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an explicit size.")
        return output_size, None
    if scale_factor is None:
        raise ValueError("interpolate: either size or scale_factor should be defined")
    factors = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * dims
    if isinstance(scale_factor, (list, tuple)) and len(factors) != dims:
        raise ValueError(f"interpolate: Input and scale_factor must have the same number of spatial dimensions, "
                         f"but got input with spatial dimensions of {list(x.shape[2:])} and scale_factor of "
                         f"shape {scale_factor}")
    if not all(isinstance(f, numbers.Real) and not isinstance(f, bool) for f in factors):
        raise TypeError(f"interpolate: scale_factor must be a float or a tuple of floats, got {scale_factor!r}")
    factors = [float(f) for f in factors]
    if recompute_scale_factor:   # torch: the size from int(in · s), the kernel's ratio then in/out
        return [int(size * f) for size, f in zip(x.shape[2:], factors)], None
    return None, factors


def _to_int(value):
    """⌊value⌋, refused as torch's kernels refuse a NaN or infinite size."""
    if not math.isfinite(value):
        raise RuntimeError("interpolate: value cannot be converted to type int64_t without overflow")
    return math.floor(value)


def _interpolate(x, output_size, scales, mode, align_corners):
    """x (N, C, *spatial): torch's size and dtype checks, then the core Function (float16 through
    float32)."""
    axes = "DHW"[3 - len(output_size):]
    sizes = (f"input ({', '.join(f'{a}: {n}' for a, n in zip(axes, x.shape[2:]))}) "
             f"output ({', '.join(f'{a}: {n}' for a, n in zip(axes, output_size))})")
    if min(*x.shape[2:], *output_size) <= 0:
        raise RuntimeError(f"interpolate: Input and output sizes should be greater than 0, but got {sizes}")
    if x.shape[1] == 0:
        raise RuntimeError(f"interpolate: Non-empty {x.ndim}D data tensor expected but got a tensor with sizes "
                           f"{list(x.shape)}")
    name = {"nearest": "upsample_nearest", "nearest-exact": "_upsample_nearest_exact", "linear": "upsample_linear",
            "bilinear": "upsample_bilinear", "bicubic": "upsample_bicubic",
            "trilinear": "upsample_trilinear"}[mode] + f"{x.ndim - 2}d"
    dtype = x.dtype.name
    if dtype not in ("float16", "float32", "float64") and not (dtype == "uint8" and mode.startswith("nearest")):
        if dtype == "uint8":
            raise NotImplementedError(f"interpolate: mode={mode!r} on uint8 is not built in minitorch_cnn (torch "
                                      f"rounds it with fixed-point weights); convert with .float()")
        raise NotImplementedError(f"interpolate: \"{name}\" not implemented for "
                                  f"'{_TORCH_NAMES.get(dtype, dtype)}' (dtype {dtype})")
    work = x.float() if dtype == "float16" else x
    if mode.startswith("nearest"):
        one_dim = (np.dtype(np.float64) if dtype == "float64" else np.dtype(np.float32)) if x.ndim == 3 else None
        out = choose(core_resample.UpsampleNearest).apply(work, output_size=tuple(output_size), scale_factors=scales,
                                                          one_dim_dtype=one_dim, exact=mode == "nearest-exact")
    else:
        function = core_resample.UpsampleBicubic2d if mode == "bicubic" else core_resample.UpsampleLinear
        out = choose(function).apply(work, output_size=tuple(output_size), align_corners=align_corners,
                                     scale_factors=scales)
    return out.half() if dtype == "float16" else out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):  # noqa: A002
    """F.upsample (deprecated in torch): (N, C, H, W) -> (N, C, out_h, out_w), F.interpolate with the same
    arguments; dx = g carried back to the taps each output read, as F.interpolate."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):  # noqa: A002
    """F.upsample_nearest (deprecated in torch): (N, C, H, W) -> (N, C, out_h, out_w), F.interpolate(...,
    mode="nearest"); dx = the sum of g over the outputs that copied each pixel."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):  # noqa: A002
    """F.upsample_bilinear (deprecated in torch): (N, C, H, W) -> (N, C, out_h, out_w), F.interpolate(...,
    mode="bilinear", align_corners=True); dx = g spread to each output's four taps with its weights."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
