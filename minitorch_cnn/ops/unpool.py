"""F.max_unpool2d and F.max_unpool1d: torch's argument checks and output size, then core/unpool.py's
MaxUnpool2d.

Input dtypes as torch on the CPU: float16, float32 and float64 (unpooling only moves values, so
float16 runs as it is); integer and bool inputs are refused as torch refuses them.  Where two
indices of one plane coincide, the value written there is one of theirs (torch does not say
which); indices from a max pool never disagree, both carry the same maximum.
"""
import numpy as np

from ..backend import get_array_module
from ..backends.fast import choose
from ..core import unpool as core_unpool
from ..core.tensor import Tensor
from .checks import expect_tensor
from .pairs import is_int, pair
from .pool import _single

_TORCH_NAMES = {"int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
                "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def unpool_output_size(x, kernel_size, stride, padding, output_size, op="max_unpool2d"):
    """torch's _unpool_output_size over the last len(kernel_size) axes: the default
    (in − 1)·stride + kernel − 2·padding per axis, or output_size (one size per axis, or with
    (N, C) in front), which must lie strictly within stride of the default."""
    dims = len(kernel_size)
    default = [(size - 1) * s + k - 2 * p for size, k, s, p in zip(x.shape[-dims:], kernel_size, stride, padding)]
    if output_size is None:
        sizes = default
    else:
        if not isinstance(output_size, (tuple, list)):
            raise TypeError(f"{op}: output_size must be a sequence of {dims} or {dims + 2} ints, got "
                            f"{type(output_size).__name__} {output_size!r}")
        sizes = list(output_size[2:] if len(output_size) == dims + 2 else output_size)
        if len(sizes) != dims:
            raise ValueError(f"{op}: output_size should be a sequence containing {dims} or {dims + 2} elements, "
                             f"but it has a length of '{len(output_size)}'")
        if not all(is_int(v) for v in sizes):
            raise TypeError(f"{op}: output_size must hold ints, got {output_size!r}")
        for d, (size, s) in enumerate(zip(sizes, stride)):
            if not default[d] - s < size < default[d] + s:
                raise ValueError(f'{op}: invalid output_size "{tuple(output_size)}" (dim {d} must be between '
                                 f'{default[d] - s} and {default[d] + s})')
    for d, size in enumerate(sizes):
        if size < 0:
            raise ValueError(f"{op}: output_size must contain non-negative spatial dimensions, but got "
                             f"output_size[{d}]={size}")
    return tuple(int(v) for v in sizes)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """F.max_unpool2d: input and indices (N, C, h, w) (or unbatched (C, h, w)), as max_pool2d's
    return_indices gives them -> (N, C, H, W), zero except out[n, c].flat[indices] = input;
    (H, W) = (h − 1)·stride + kernel − 2·padding, or output_size.
    dx = g read back at each index (a gather); indices get no gradient."""
    op = "max_unpool2d"
    x = expect_tensor(input, op, "input")
    expect_tensor(indices, op, "indices")
    kernel_size = pair(kernel_size, f"{op}: kernel_size", -np.inf)
    stride = kernel_size if stride is None else pair(stride, f"{op}: stride", -np.inf)
    padding = pair(padding, f"{op}: padding", -np.inf)
    return _unpool(op, x, indices, unpool_output_size(x, kernel_size, stride, padding, output_size, op))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):  # noqa: A002
    """F.max_unpool1d: input and indices (N, C, l) (or unbatched (C, l)), as max_pool1d's
    return_indices gives them -> (N, C, L), zero except out[n, c, indices] = input;
    L = (l − 1)·stride + kernel − 2·padding, or output_size.  As torch: F.max_unpool2d's work on
    (N, C, l, 1).  dx = g read back at each index (a gather); indices get no gradient."""
    op = "max_unpool1d"
    x = expect_tensor(input, op, "input")
    expect_tensor(indices, op, "indices")
    kernel_size = (_single(kernel_size, f"{op}: kernel_size"),)
    stride = kernel_size if stride is None else (_single(stride, f"{op}: stride"),)
    padding = (_single(padding, f"{op}: padding"),)
    size = unpool_output_size(x, kernel_size, stride, padding, output_size, op)
    return _unpool(op, x.unsqueeze(-1), indices.unsqueeze(-1), size + (1,)).squeeze(-1)


def _unpool(op, x, indices, size):
    """torch's max_unpool2d kernel's checks, then the core MaxUnpool2d to (H, W) = size."""
    if indices.dtype != np.int64:
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got: {indices.dtype}")
    if x.ndim not in (3, 4):
        raise RuntimeError(f"{op}: Input to max_unpooling2d should be a 3d or 4d Tensor, but got a tensor with "
                           f"{x.ndim} dimensions.")
    if indices.shape != x.shape:
        raise RuntimeError(f"{op}: Expected shape of indices to be same as that of the input tensor "
                           f"({list(x.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    for d in range(x.ndim - 3, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"{op}: Expected input to have non-zero size for non-batch dimensions, but got "
                               f"{list(x.shape)} with dimension {d} being empty.")
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: \"max_unpool2d\" not implemented for "
                                  f"'{_TORCH_NAMES.get(x.dtype.name, x.dtype.name)}' (dtype {x.dtype})")
    batched = x.ndim == 4
    if size[0] * size[1] == 0:      # nothing to place (torch checks no index then)
        return Tensor(get_array_module(x.array).zeros(x.shape[:-2] + size, dtype=x.dtype))
    _check_indices(op, indices.array, size)
    x4, indices4 = (x, indices) if batched else (x.unsqueeze(0), indices.unsqueeze(0))
    out = choose(core_unpool.MaxUnpool2d).apply(x4, indices4, output_size=size)
    return out if batched else out.squeeze(0)


def _check_indices(op, index, size):
    """Every index must name a pixel of the H × W output plane: 0 ≤ index < H·W."""
    if index.size == 0:
        return
    bad = (index < 0) | (index >= size[0] * size[1])
    if bool(bad.any()):
        first = int(index.reshape(-1)[int(bad.reshape(-1).argmax())])
        raise RuntimeError(f"{op}: Found an invalid max index: {first} (output volumes are of size "
                           f"{size[0]}x{size[1]})")
