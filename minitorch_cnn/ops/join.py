"""Joining tensors: cat (along an existing dim) and stack (along a new one).

The inputs promote to one dtype as in torch (an int tensor joined to a float one becomes
float); each input's gradient is its own slice of the output gradient, in its own dtype.
"""
import operator

from ..core.autograd import Function
from ..backend import get_array_module
from ..core.tensor import Tensor
from .elementwise import _no_out, check_same_device
from .promotion import promote_types
from .reduce import _wrap_dim
from .shape import getitem, normalize_dim, size_arg


class Cat(Function):
    """out = [x0, x1, ...] joined along `dim`;  dxi = g's slice at xi's position along dim."""
    @staticmethod
    def forward(ctx, *arrays, dim, dtype, skipped):
        ctx.meta = [(a.shape, a.dtype) for a in arrays]
        ctx.dim, ctx.skipped = dim, skipped
        kept = [a.astype(dtype, copy=False) for a, skip in zip(arrays, skipped) if not skip]
        xp = get_array_module(arrays[0])
        if not kept:
            return xp.zeros((0,), dtype=dtype)
        return xp.concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, g):
        xp = get_array_module(g)
        grads, start = [], 0
        for (shape, dtype), skip, needed in zip(ctx.meta, ctx.skipped, ctx.needs_input_grad):
            if skip:
                grads.append(xp.zeros(shape, dtype=dtype) if needed else None)
                continue
            stop = start + shape[ctx.dim]
            if needed:
                index = (slice(None),) * ctx.dim + (slice(start, stop),)
                grads.append(g[index].astype(dtype, copy=False))
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """out = [x0, x1, ...] stacked along a new dim `dim`;  dxi = g's index i along dim."""
    @staticmethod
    def forward(ctx, *arrays, dim, dtype):
        ctx.dtypes, ctx.dim = [a.dtype for a in arrays], dim
        return get_array_module(arrays[0]).stack([a.astype(dtype, copy=False) for a in arrays], axis=dim)

    @staticmethod
    def backward(ctx, g):
        return tuple(g[(slice(None),) * ctx.dim + (i,)].astype(dtype, copy=False) if needed else None
                     for i, (dtype, needed) in enumerate(zip(ctx.dtypes, ctx.needs_input_grad)))


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a tensor as element {i}, got {type(t).__name__}")
    check_same_device(op, tensors)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    return list(tensors), dtype


def _dim_arg(op, dim):
    if isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got bool")
    try:
        return operator.index(dim)
    except TypeError:
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}") from None


def cat(tensors, dim=0, *, out=None):
    """out = the tensors joined along `dim`: shapes equal except along dim -> that dim summed;
    dtype promoted as torch; 1-D empty tensors are skipped (torch's legacy rule);
    dxi = g's slice where xi sits along dim."""
    _no_out("cat", out)
    tensors, dtype = _tensor_list("cat", tensors)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be concatenated")
    skipped = [t.shape == (0,) for t in tensors]
    kept = [t for t, skip in zip(tensors, skipped) if not skip]
    dim = _dim_arg("cat", dim)
    if not kept:   # only 1-D empty tensors: torch ignores dim and returns an empty 1-D tensor
        return Cat.apply(*tensors, dim=0, dtype=dtype, skipped=tuple(skipped))
    reference = kept[0]
    dim = normalize_dim(dim, reference.ndim, "cat")
    for i, t in enumerate(tensors):
        if skipped[i] or t is reference:
            continue
        if t.ndim != reference.ndim:
            raise RuntimeError(f"cat: tensors must have the same number of dimensions: "
                               f"got {reference.ndim} and {t.ndim} (tensor {i})")
        for d, (n, m) in enumerate(zip(reference.shape, t.shape)):
            if d != dim and n != m:
                raise RuntimeError(f"cat: sizes of tensors must match except in dimension {dim}: "
                                   f"expected size {n} but got size {m} for tensor {i} in the list "
                                   f"(shapes {reference.shape} and {t.shape})")
    return Cat.apply(*tensors, dim=dim, dtype=dtype, skipped=tuple(skipped))


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None):
    """out = the tensors (all one shape s) stacked along a new dim `dim` -> s with len(tensors)
    inserted at dim; dtype promoted as torch;  dxi = g's index i along dim."""
    _no_out("stack", out)
    tensors, dtype = _tensor_list("stack", tensors)
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(f"stack: expects each tensor to be of equal size, but got "
                               f"{list(shape)} at entry 0 and {list(t.shape)} at entry {i}")
    dim = normalize_dim(_dim_arg("stack", dim), len(shape) + 1, "stack")
    return Stack.apply(*tensors, dim=dim, dtype=dtype)


# ---- the inverse: split and chunk -------------------------------------------------------
def _pieces(x, dim, sizes):
    """x cut along dim into consecutive pieces of `sizes`: views (basic slices), each with its
    own gradient path (dx = g of each piece put back at its slice)."""
    pieces, start = [], 0
    for n in sizes:
        pieces.append(getitem(x, (slice(None),) * dim + (slice(start, start + n),)))
        start += n
    return tuple(pieces)


def _cut_dim(op, x, dim):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(x).__name__}")
    if x.ndim == 0:
        raise RuntimeError(f"{op}: expects at least a 1-dimensional tensor")
    return _wrap_dim(op, _dim_arg(op, dim), x.ndim)


def split(tensor, split_size_or_sections, dim=0):
    """Cut tensor along dim: an int s -> pieces of s (the last one smaller when s does not divide
    the size); a list of sizes -> pieces of those sizes (summing to the size).  A tuple of views;
    each piece's gradient goes back to its slice."""
    op = "split"
    dim = _cut_dim(op, tensor, dim)
    length = tensor.shape[dim]
    sections = split_size_or_sections
    if isinstance(sections, (list, tuple)):
        sizes = [size_arg("split_with_sizes", n, "split_sizes") for n in sections]
        if any(n < 0 for n in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, "
                               f"but got split_sizes={sizes}")
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} (input "
                               f"tensor's size at dimension {dim}), but got split_sizes={sizes}")
        return _pieces(tensor, dim, sizes)
    size = size_arg(op, sections, "split_size")
    if size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
    if size == 0:
        if length != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension "
                               f"size of {length}")
        return _pieces(tensor, dim, [0])
    count = max(-(-length // size), 1)
    return _pieces(tensor, dim, [min(size, length - i * size) for i in range(count)])


def chunk(input, chunks, dim=0):  # noqa: A002  (torch's names)
    """Cut input along dim into at most `chunks` pieces of ceil(size / chunks) (the last smaller,
    and fewer pieces when that size covers the dim sooner).  A tuple of views, as split."""
    op = "chunk"
    chunks = size_arg(op, chunks, "chunks")
    dim = _cut_dim(op, input, dim)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input.shape[dim]
    if length == 0:          # torch: `chunks` empty pieces
        return _pieces(input, dim, [0] * chunks)
    return split(input, -(-length // chunks), dim)
