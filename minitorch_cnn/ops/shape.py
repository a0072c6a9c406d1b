"""Shape ops: reshape, flatten, transpose/permute, indexing, dtype/device casts.

None of them changes a value, so each backward only moves the gradient back
into the input's shape (or, for indexing, into the positions that were read).
"""
import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor


class Reshape(Function):
    """out = x viewed as `shape`;  dx = g reshaped to x.shape."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(x.shape)} "
                             f"({x.size} elements) into {tuple(shape)}") from None

    @staticmethod
    def backward(ctx, g):
        return (g.reshape(ctx.shape),)


class Permute(Function):
    """out = x with axes reordered by `dims`;  dx = g with the inverse order."""
    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return (g.transpose(ctx.inverse),)


class GetItem(Function):
    """out = x[index];  dx = zeros with g scattered (added, for repeated indices) at index."""
    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        xp = backend.get_array_module(g)
        grad = xp.zeros(ctx.shape, dtype=ctx.dtype)
        if _is_basic(ctx.index):
            grad[ctx.index] = g          # slices never repeat a position
        else:
            backend.scatter_add(grad, ctx.index, g)
        return (grad,)


class Cast(Function):
    """out = x on another device or dtype;  dx = g moved back."""
    @staticmethod
    def forward(ctx, x, device, dtype):
        ctx.device, ctx.dtype = backend.device_of(x), x.dtype
        return backend.to_device(x, device).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return (backend.to_device(g, ctx.device).astype(ctx.dtype, copy=False),)


def normalize_dim(dim, ndim, op, word="dim"):
    """dim in [-ndim, ndim) -> [0, ndim) (0 for a 0-d tensor); else a ValueError naming op."""
    if not -ndim <= dim < max(ndim, 1):
        raise ValueError(f"{op}: {word} {dim} is out of range for a {ndim}-d tensor")
    return dim % max(ndim, 1)


def reshape(x, shape):
    return Reshape.apply(x, shape=tuple(int(n) for n in shape))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dims start_dim..end_dim into one (torch.flatten)."""
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start:end + 1]))   # not -1: ambiguous when another dim is 0
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def permute(x, dims):
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} axes")
    return Permute.apply(x, dims=dims)


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(x, dims=tuple(dims))


def unsqueeze(x, dim):
    dim = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dim = normalize_dim(dim, x.ndim, "squeeze")
    return x if x.shape[dim] != 1 else reshape(x, x.shape[:dim] + x.shape[dim + 1:])


def to_array_index(index):
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, tuple):
        return tuple(to_array_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    """True when the index has only ints, slices, None and Ellipsis (no arrays)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts)


def getitem(x, index):
    index = to_array_index(index)
    if not _is_basic(index):
        xp = backend.get_array_module(x.data)
        # Index arrays follow the data's device (NumPy indices may index CuPy data).
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(xp.asarray(p) if hasattr(p, "shape") else p for p in parts)
        index = parts if isinstance(index, tuple) else parts[0]
    return GetItem.apply(x, index=index)
