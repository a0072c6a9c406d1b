"""Shape ops: reshape/view, flatten, transpose/permute, expand, repeat, clone, indexing,
dtype/device casts.

None of them changes a value, so each backward only moves the gradient back
into the input's shape (or, for indexing, into the positions that were read).
Reshape, Permute and GetItem are core/shape.py's (fast/shape.py replaces GetItem while
minitorch_cnn.backends.fast is enabled); the Functions below are this module's own.
"""
import operator
import warnings

import numpy as np

from .. import backend
from ..backends.fast import choose
from ..core import shape as core_shape
from ..core.autograd import Function
from ..core.tensor import Tensor
from ..fast import shape as _fast_shape  # noqa: F401  (registers the fast GetItem)
from ..fast.shape import _is_basic
from ..formats import contiguous_format, preserve_format, strided
from .elementwise import unbroadcast


# torch's enum values as default arguments, under the names the ops and the Tensor's methods use
PRESERVE_FORMAT, CONTIGUOUS_FORMAT, STRIDED = preserve_format, contiguous_format, strided


class Expand(Function):
    """out = x broadcast to `shape` (a view, no copy);  dx = g summed over the expanded axes."""
    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return backend.get_array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return (unbroadcast(g, ctx.shape),)


class Repeat(Function):
    """out = x tiled `repeats` times along each dim;  dx = g summed over the copies."""
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.shape = x.shape
        lead = (1,) * (len(repeats) - x.ndim)
        return backend.get_array_module(x).tile(x.reshape(lead + x.shape), repeats)

    @staticmethod
    def backward(ctx, g):
        xp = backend.get_array_module(g)
        if g.size == 0:
            return (xp.zeros(ctx.shape, dtype=g.dtype),)
        # (r0·s0, r1·s1, ...) -> (r0, s0, r1, s1, ...): copy k of x sits at index k of each r axis
        sizes = (1,) * (g.ndim - len(ctx.shape)) + tuple(ctx.shape)
        split = [n for total, size in zip(g.shape, sizes) for n in (total // size, size)]
        return (g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(ctx.shape),)


class Clone(Function):
    """out = a copy of x (same memory order);  dx = g."""
    @staticmethod
    def forward(ctx, x):
        return x.copy(order="K")

    @staticmethod
    def backward(ctx, g):
        return (g,)


class Contiguous(Function):
    """out = x copied into C (row-major) order;  dx = g."""
    @staticmethod
    def forward(ctx, x):
        return backend.get_array_module(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return (g,)


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
    """dim in [-ndim, ndim) -> [0, ndim) (a 0-d tensor takes -1 and 0, as torch); else a
    ValueError naming op."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ValueError(f"{op}: {word} {dim} is out of range for a {ndim}-d tensor")
    return dim % max(ndim, 1)


def _index_message(exc, shape):
    """NumPy's indexing complaint in torch's words ("dimension", not "axis")."""
    return str(exc).replace(" axis ", " dimension ") + f" (tensor of shape {tuple(shape)})"


def size_arg(op, n, what="size"):
    """One entry of a shape: a Python/NumPy int or a 0-d integer tensor; a float or a bool is a
    TypeError naming the op (int(2.9) would silently truncate)."""
    if isinstance(n, Tensor) and n.ndim == 0 and n.dtype.kind in "iu":
        return int(n.item())
    if isinstance(n, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be a tuple of ints, got a bool ({n})")
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {what} must be a tuple of ints, got {type(n).__name__} {n!r}") from None


def infer_shape(op, shape, numel, old_shape=None):
    """`shape` with its one -1 filled in so that it holds `numel` elements (torch's rules)."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{op}: shape must be a tuple of ints, got {type(shape).__name__}")
    def mismatch():
        return ValueError(f"{op}: cannot reshape a tensor of shape {old_shape} ({numel} elements) "
                          f"into {shape}")
    shape = tuple(size_arg(op, n, "shape") for n in shape)
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"{op}: invalid shape dimension {n} at index {i} of shape {list(shape)}")
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    known = 1
    for n in shape:
        known *= n if n != -1 else 1
    if -1 in shape:
        if known == 0:
            raise RuntimeError(f"{op}: cannot reshape a tensor of {numel} elements into shape {list(shape)}: "
                               "the size -1 stands for could be any value")
        if numel % known:
            raise mismatch()
        shape = tuple(numel // known if n == -1 else n for n in shape)
    elif known != numel:
        raise mismatch()
    return shape


def reshape(input, shape):  # noqa: A002  (torch's names)
    """out = x reshaped to `shape` (one -1 inferred) -> shape;  dx = g reshaped to x.shape."""
    x = input
    return choose(core_shape.Reshape).apply(x, shape=infer_shape("reshape", shape, x.numel(), x.shape))


def _viewable(old_shape, old_strides, new_shape):
    """Whether `new_shape` can view an array of `old_shape`/`old_strides` (strides in elements)
    without copying, as torch decides it: the old dims fall into chunks, runs of dims each
    stepping over exactly the next one (size-1 dims join any chunk); the new shape must split
    into consecutive groups whose sizes are exactly those chunks' sizes."""
    if 0 in old_shape:
        return True
    dims = [(n, s) for n, s in zip(old_shape, old_strides) if n != 1]
    chunks, size = [], 1
    for i, (n, stride) in enumerate(dims):
        size *= n
        last = i == len(dims) - 1
        if last or dims[i + 1][1] * dims[i + 1][0] != stride:
            chunks.append(size)
            size = 1
    new_sizes = [n for n in new_shape if n != 1]
    for chunk in chunks:
        product = 1
        while product < chunk and new_sizes:
            product *= new_sizes.pop(0)
        if product != chunk:
            return False
    return not new_sizes


def view(x, shape):
    """out = x viewed as `shape` (one -1 inferred), sharing its memory -> shape;
    dx = g reshaped to x.shape.  As torch, a RuntimeError when x's strides cannot be viewed so
    (a transposed or sliced x): use reshape, or contiguous() first."""
    shape = infer_shape("view", shape, x.numel(), x.shape)
    itemsize = x.array.dtype.itemsize
    strides = tuple(s // itemsize for s in x.array.strides)
    if not _viewable(x.shape, strides, shape):
        raise RuntimeError(f"view: shape {list(shape)} is not compatible with the input's shape "
                           f"{list(x.shape)} and strides {list(strides)} (a dimension would span two "
                           "non-adjacent memory runs); use reshape(...) or contiguous() first")
    return choose(core_shape.Reshape).apply(x, shape=shape)


def expand(x, sizes):
    """out = x broadcast to `sizes` (-1 keeps a dim; new dims lead) -> sizes, no copy;
    dx = g summed over the expanded dims."""
    sizes = tuple(size_arg("expand", n) for n in sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(f"expand: the number of sizes given ({len(sizes)}) must be at least "
                           f"the tensor's number of dimensions ({x.ndim}); shape {list(x.shape)}")
    lead = len(sizes) - x.ndim
    target = []
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"expand: size {n} is not allowed in a new leading dimension {i}")
            target.append(n)
            continue
        old = x.shape[i - lead]
        if n == -1:
            n = old
        if n != old and old != 1:
            raise RuntimeError(f"expand: the expanded size ({n}) must match the existing size ({old}) "
                               f"at non-singleton dimension {i}; target sizes {list(sizes)}, "
                               f"tensor sizes {list(x.shape)}")
        if n < 0:
            raise RuntimeError(f"expand: invalid size {n} at dimension {i}")
        target.append(n)
    return Expand.apply(x, shape=tuple(target))


def repeat(x, repeats):
    """out = x tiled repeats[i] times along dim i (new dims lead) -> (r0·s0, r1·s1, ...);
    dx = g summed over the copies."""
    repeats = tuple(size_arg("repeat", n, "repeats") for n in repeats)
    if len(repeats) < x.ndim:
        raise RuntimeError(f"repeat: the number of repeats ({len(repeats)}) must be at least the "
                           f"tensor's number of dimensions ({x.ndim})")
    sizes = (1,) * (len(repeats) - x.ndim) + x.shape
    if any(r * n < 0 for r, n in zip(repeats, sizes)):   # torch only minds a negative result size
        raise RuntimeError(f"repeat: repeats {list(repeats)} would give a negative size for a tensor of "
                           f"shape {list(x.shape)}")
    repeats = tuple(max(r, 0) if n == 0 else r for r, n in zip(repeats, sizes))
    return Repeat.apply(x, repeats=repeats)


def clone(input, *, memory_format=PRESERVE_FORMAT):  # noqa: A002
    """out = a copy of x, same shape and dtype, x's memory order (C order with
    memory_format=torch.contiguous_format);  dx = g."""
    x = input
    if not isinstance(x, Tensor):
        raise TypeError(f"clone: expected a tensor, got {type(x).__name__}")
    if str(memory_format) == str(CONTIGUOUS_FORMAT):
        return Contiguous.apply(x)
    if str(memory_format) != str(PRESERVE_FORMAT):
        raise RuntimeError(f"clone: memory_format={memory_format} is not supported (only "
                           f"torch.preserve_format and torch.contiguous_format)")
    return Clone.apply(x)


def is_contiguous(x):
    return bool(x.array.flags.c_contiguous)


def contiguous(x):
    """out = x in C (row-major) order: x itself when it already is;  dx = g."""
    return x if is_contiguous(x) else Contiguous.apply(x)


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    """Merge dims start_dim..end_dim into one (torch.flatten)."""
    x = input
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = int(np.prod(x.shape[start:end + 1]))   # not -1: ambiguous when another dim is 0
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def permute(x, dims):
    dims = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of the {x.ndim} axes")
    return choose(core_shape.Permute).apply(x, dims=dims)


def transpose(x, dim0, dim1):
    """out = x with dims dim0 and dim1 swapped;  dx = g swapped back."""
    dims = list(range(x.ndim))
    a, b = normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose")
    if x.ndim == 0:
        return choose(core_shape.Permute).apply(x, dims=())
    dims[a], dims[b] = dims[b], dims[a]
    return choose(core_shape.Permute).apply(x, dims=tuple(dims))


def t(x):
    """x.t(): a 2-D tensor transposed (0-D and 1-D unchanged) -> (n, m) for (m, n);  dx = gᵀ."""
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {x.ndim}; use transpose(dim0, dim1)")
    return x if x.ndim < 2 else transpose(x, 0, 1)


def unsqueeze(x, dim):
    dim = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    """x with its size-1 dims removed: all of them, the one `dim` names, or each of a tuple of
    dims (torch >= 2.0); a named dim whose size is not 1 stays."""
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    if isinstance(dim, (tuple, list)):
        dims = [normalize_dim(size_arg("squeeze", d, "dim"), x.ndim, "squeeze") for d in dim]
        repeated = {d for d in dims if dims.count(d) > 1}
        if repeated:
            raise RuntimeError(f"squeeze: dim {min(repeated)} appears multiple times in the list of dims {tuple(dim)}")
        return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))
    dim = normalize_dim(dim, x.ndim, "squeeze")
    if x.ndim == 0:
        return reshape(x, ())
    return x if x.shape[dim] != 1 else reshape(x, x.shape[:dim] + x.shape[dim + 1:])


def to_array_index(index):
    """Replace tensors inside an index by their arrays; a list read as a tuple where torch reads
    it so (see _sequence_as_tuple)."""
    if _sequence_as_tuple(index):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated (torch "
                      "reads x[seq] as x[tuple(seq)] here, and so does minitorch_cnn); use "
                      "x[tuple(seq)] instead of x[seq]", UserWarning, stacklevel=4)
        index = tuple(index)
    if isinstance(index, tuple):
        return tuple(_array_part(i) for i in index)
    return _array_part(index)


def _sequence_as_tuple(index):
    """torch's legacy rule (NumPy's before 1.23): a list of fewer than 32 items holding a
    sequence, a tensor, a slice, None or Ellipsis indexes as the tuple of its items:
    x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]], two elements, not a (2, 2, ...) block of rows."""
    if not isinstance(index, list) or len(index) >= 32:
        return False
    return any(isinstance(i, (Tensor, list, tuple, slice, np.ndarray)) or i is None or i is Ellipsis
               for i in index)


def _array_part(index):
    if isinstance(index, tuple):
        return tuple(_array_part(i) for i in index)
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, list):
        array = np.asarray(index)
        # [] selects nothing, as in torch (NumPy would make it float64 and refuse it)
        return array.astype(np.int64) if array.size == 0 and array.dtype == np.float64 else array
    return index


def _wraps_out_of_range(array):
    """Whether indexing `array` with an out-of-range integer array wraps around silently instead
    of raising: CuPy's fancy indexing does (x[[5]] of a 5-row CuPy array is row 0); NumPy raises."""
    return backend.get_array_module(array) is not np


def _dims_taken(part):
    """How many dimensions of the indexed array one part of an index consumes."""
    if part is None or part is Ellipsis or isinstance(part, (bool, np.bool_)):
        return 0
    if getattr(part, "dtype", None) == np.bool_:
        return part.ndim        # a mask covers as many dims as it has
    return 1


def check_index_bounds(op, index, shape):
    """Raise IndexError, in torch's words, when an integer or integer array in `index` holds a value
    outside [-n, n) of the dimension n it indexes.  NumPy raises so itself; CuPy wraps such values
    silently, so the call sites run this for CuPy data.  Ints, lists and NumPy arrays are checked on
    the host before they are uploaded (free); a CuPy index array costs one host read of its min and
    max, a synchronisation kept on purpose: torch raises too (a device-side assert), and a silently
    wrong row is the worst outcome."""
    parts = index if isinstance(index, tuple) else (index,)
    named = sum(_dims_taken(p) for p in parts)
    arrays_read = _advanced_indices_select_something(parts)
    dim = 0
    for part in parts:
        if part is Ellipsis:
            dim += max(len(shape) - named, 0)
            continue
        kind = getattr(getattr(part, "dtype", None), "kind", None)
        is_int = isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)) \
            or (kind in ("i", "u") and part.ndim == 0)      # ints and 0-d arrays: always checked
        is_int_array = kind in ("i", "u") and part.ndim > 0 and part.size > 0 and arrays_read
        if (is_int or is_int_array) and dim < len(shape):
            n = shape[dim]
            if is_int and not hasattr(part, "dtype"):
                low = high = part
            else:
                xp = backend.get_array_module(part)
                low, high = (int(v) for v in backend.to_numpy(xp.stack([xp.min(part), xp.max(part)])))
            if low < -n or high >= n:
                raise IndexError(f"{op}: index {low if low < -n else high} is out of bounds for "
                                 f"dimension {dim} with size {n}")
        dim += _dims_taken(part)


def _advanced_indices_select_something(parts):
    """Whether the index arrays (integer arrays and masks of 1 dim or more) broadcast to a
    non-empty shape: when they select nothing, NumPy and torch read none of their values and
    raise for none.  A CuPy mask next to an integer array costs a read of its count."""
    int_shapes = [p.shape for p in parts if getattr(p, "dtype", None) is not None
                  and p.dtype.kind in "iu" and p.ndim > 0]
    if not int_shapes:
        return True             # (no integer array to skip)
    if any(0 in shape for shape in int_shapes):
        return False
    counts = [(int(backend.get_array_module(p).count_nonzero(p)),) for p in parts
              if getattr(p, "dtype", None) == np.bool_ and p.ndim > 0]
    try:
        return 0 not in np.broadcast_shapes(*int_shapes, *counts)
    except ValueError:      # arrays that do not broadcast: the indexing itself raises, in its words
        return False


def _refuse_negative_steps(index):
    """torch's tensors have no negative strides, so x[::-1] is an error there (flip() reverses)."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, slice) and part.step is not None and operator.index(part.step) <= 0:
            raise ValueError(f"getitem: step must be greater than zero, got {part.step} in {part} "
                             f"(torch refuses negative steps)")


def getitem(x, index):
    index = to_array_index(index)
    _refuse_negative_steps(index)
    if _wraps_out_of_range(x.array):
        check_index_bounds("getitem", index, x.shape)
    if not _is_basic(index):
        xp = backend.get_array_module(x.array)
        # Index arrays follow the data's device (NumPy indices may index CuPy data).
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(xp.asarray(p) if hasattr(p, "shape") else p for p in parts)
        index = parts if isinstance(index, tuple) else parts[0]
    try:
        return choose(core_shape.GetItem).apply(x, index=index)
    except (IndexError, TypeError, ValueError) as exc:   # NumPy's own complaint, with the op's name
        raise type(exc)(f"getitem: {_index_message(exc, x.shape)}") from None
