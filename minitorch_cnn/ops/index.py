"""Indexing along one dim: gather, scatter (scatter_), index_select, with torch's checks.

An index tensor holds int64 (or int32) positions along `dim`, each in [0, size): negative
positions are out of bounds here, as in torch (plain indexing x[i] wraps them; these do not).
"""
import numpy as np

from .. import backend
from ..backend import get_array_module
from ..core.autograd import Function
from ..core.tensor import Tensor
from .elementwise import _no_out, check_same_device
from .promotion import check_fits, is_number
from .reduce import _along, _one_dim, _tensor


# ---- checks -----------------------------------------------------------------------------
def _index_tensor(op, index):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.dtype not in (np.int64, np.int32) and index.numel() > 0:   # torch skips an empty one
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {index.dtype}")
    return index.array.astype(np.int64, copy=False)


def _check_range(op, index, size, dim, error=RuntimeError):
    """Every position in [0, size) (a CuPy index costs one read of its min and max)."""
    if index.size == 0:
        return
    low, high = (int(v) for v in backend.to_numpy(get_array_module(index).stack([index.min(), index.max()])))
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        raise error(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}")



def _check_sizes(op, index, shape, axis, other=None):
    """index.size(d) <= shape[d] for every d but axis (and <= other[d] for every d)."""
    if index.ndim != max(len(shape), 1) and not (len(shape) == 0 and index.ndim == 0):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as input "
                           f"tensor (index {index.ndim}-d, input {len(shape)}-d)")
    sizes = shape if shape else (1,)
    for d, n in enumerate(index.shape):
        if (d != axis and n > sizes[d]) or (other is not None and n > other[d]):
            raise RuntimeError(f"{op}(): Size does not match at dimension {d}: expected index "
                               f"{list(index.shape)} to be no larger than self {list(shape)} apart "
                               f"from dimension {axis}"
                               + ("" if other is None else f" and no larger than src {list(other)}"))


def _positions(index, axis):
    """The full advanced index reading `index` along axis, every position elsewhere (index's shape)."""
    return _along(index, axis) if index.ndim else (index,)


# ---- gather -----------------------------------------------------------------------------
class Gather(Function):
    """out[i][j][k] = x[i][index[i][j][k]][k] (for axis 1), index's shape;
    dx = zeros of x's shape with g added at the gathered positions (repeats add up)."""
    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return x.reshape(x.shape or (1,))[_positions(index, axis)].reshape(index.shape)

    @staticmethod
    def backward(ctx, g):
        grad = get_array_module(g).zeros(ctx.shape or (1,), dtype=g.dtype)
        backend.scatter_add(grad, _positions(ctx.index, ctx.axis), g)
        return (grad.reshape(ctx.shape),)


def gather(input, dim, index, *, sparse_grad=False, out=None):  # noqa: A002  (torch's names)
    """out = input's values at `index` along dim: index (int64, input's ndim, each size <= input's
    but along dim) -> index's shape, input's dtype.  dx = g added back at the gathered positions."""
    op = "gather"
    x = _tensor(op, input)
    _no_out(op, out)
    if sparse_grad:
        raise RuntimeError("gather: sparse_grad=True is not supported (minitorch_cnn has no sparse "
                           "tensors); the dense gradient is what sparse_grad=False gives")
    index_array = _index_tensor(op, index)
    check_same_device(op, (x, index))
    axis = _one_dim(op, dim, x.ndim)
    if index_array.size == 0:       # torch checks nothing of an empty index: nothing is read
        return x.reshape(-1)[:0].reshape(index_array.shape)
    _check_sizes(op, index_array, x.shape, axis)
    _check_range(op, index_array, x.shape[axis] if x.ndim else 1, axis)
    return Gather.apply(x, index=index_array, axis=axis)


# ---- scatter ----------------------------------------------------------------------------
class Scatter(Function):
    """out = x with out[i][index[i][j]] = src[i][j] (for axis 1; `src` an array, or a number
    broadcast), or combined with x's value by reduce 'add' / 'multiply';
    dx = g with zeros at the written positions;  dsrc = g gathered at index (torch's formula:
    zero beyond index's shape).  With reduce, no derivative, as in torch: backward raises."""
    @staticmethod
    def forward(ctx, x, src, index, axis, reduce):
        ctx.index, ctx.axis, ctx.reduce = index, axis, reduce
        ctx.src_shape = src.shape if hasattr(src, "shape") else None
        where = _positions(index, axis)
        values = src[tuple(slice(0, n) for n in index.shape)] if hasattr(src, "shape") else src
        out = x.reshape(x.shape or (1,)).copy()
        if reduce == "add":
            backend.scatter_add(out, where, values)
        elif reduce == "multiply":
            _multiply_at(out, where, values)
        else:
            out[where] = values
        return out.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is not None:
            raise RuntimeError("scatter: the derivative for scatter with reduce= is not implemented "
                               "(as in torch)")
        need_x, need_src = ctx.needs_input_grad
        where = _positions(ctx.index, ctx.axis)
        flat = g.reshape(g.shape or (1,))
        grad_x = grad_src = None
        if need_x:
            grad_x = flat.copy()
            grad_x[where] = 0
            grad_x = grad_x.reshape(g.shape)
        if need_src:
            grad_src = get_array_module(g).zeros(ctx.src_shape, dtype=g.dtype)
            grad_src[tuple(slice(0, n) for n in ctx.index.shape)] = flat[where]
        return grad_x, grad_src


def _multiply_at(target, where, values):
    """target[where] *= values, repeated positions multiplying in turn.  CuPy has no
    multiply.at: a CuPy target makes a round trip through host memory (reduce='multiply' is rare)."""
    if get_array_module(target) is np:
        np.multiply.at(target, where, values)
        return
    host = backend.to_numpy(target)
    np.multiply.at(host, tuple(backend.to_numpy(w) for w in where),
                   backend.to_numpy(values) if hasattr(values, "shape") else values)
    target[...] = get_array_module(target).asarray(host)


def scatter(input, dim, index, src=None, value=None, *, reduce=None, out=None):  # noqa: A002
    """out = input with src's values (or the number value) written at `index` along dim; input's
    shape and dtype.  index (int64, input's ndim) is no larger than src in any dim and than input
    but along dim; a position written twice keeps the last value.  reduce='add' | 'multiply'
    combines instead.  dx = g, zero at the written positions;  dsrc = g gathered at index."""
    _no_out("scatter", out)
    return _scatter("scatter", input, dim, index, src, value, reduce)


def _scatter(op, input, dim, index, src, value, reduce):  # noqa: A002
    x = _tensor(op, input)
    if src is not None and value is not None:
        raise TypeError(f"{op}: pass src or value, not both")
    if src is None and value is None:
        raise TypeError(f"{op}: missing the src tensor (or the number value) to write")
    source = src if src is not None else value
    if isinstance(source, np.generic) and is_number(source):
        source = source.item()
    if reduce is not None and reduce not in ("add", "multiply"):
        raise RuntimeError(f"{op}: reduce argument must be either add or multiply, got {reduce!r}")
    index_array = _index_tensor(op, index)
    axis = _one_dim(op, dim, x.ndim)
    if index_array.ndim == 0:        # a 0-d index (of a 0-d input) writes its one position
        index_array = index_array.reshape(1)
    if isinstance(source, Tensor):
        if source.dtype != x.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {x.dtype} "
                               f"and {source.dtype})")
        if index_array.ndim != max(source.ndim, 1) and not (source.ndim == 0 == index_array.ndim):
            raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as src "
                               f"tensor (index {index_array.ndim}-d, src {source.ndim}-d)")
        check_same_device(op, (x, index, source))
        _check_sizes(op, index_array, x.shape, axis, source.shape or (1,))
    elif is_number(source):
        check_same_device(op, (x, index))
        _check_sizes(op, index_array, x.shape, axis)
        if x.dtype.kind in "iu" and isinstance(source, float):
            source = int(source)            # torch casts the value toward zero
        check_fits(op, source, x.dtype)
    else:
        raise TypeError(f"{op}: src must be a tensor or a number, got {type(source).__name__}")
    _check_range(op, index_array, x.shape[axis] if x.ndim else 1, axis)
    if isinstance(source, Tensor):
        return Scatter.apply(x, source.reshape(source.shape or (1,)) if source.ndim == 0 else source,
                             index=index_array, axis=axis, reduce=reduce)
    return Scatter.apply(x, source, index=index_array, axis=axis, reduce=reduce)


# ---- index_select -----------------------------------------------------------------------
class IndexSelect(Function):
    """out = x's slices at positions `index` (1-D) along axis: dim axis of size len(index);
    dx = zeros with g added at those slices (repeats add up)."""
    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return get_array_module(x).take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        grad = get_array_module(g).zeros(ctx.shape, dtype=g.dtype)
        backend.scatter_add(grad, (slice(None),) * ctx.axis + (ctx.index,), g)
        return (grad,)


def index_select(input, dim, index, *, out=None):  # noqa: A002
    """out = input's entries at `index` (a 1-D or 0-D int64/int32 tensor) along dim: shape as
    input with dim of size len(index).  dx = g added back at the selected slices."""
    op = "index_select"
    x = _tensor(op, input)
    _no_out(op, out)
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got a {index.ndim}-d tensor")
    if index.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"index_select(): Expected dtype int32 or int64 for index, got {index.dtype}")
    check_same_device(op, (x, index))
    axis = _one_dim(op, dim, x.ndim)
    index_array = index.array.astype(np.int64, copy=False).reshape(-1)
    _check_range(op, index_array, x.shape[axis] if x.ndim else 1, axis, error=IndexError)
    if x.ndim == 0:
        if index_array.size != 1:
            raise IndexError(f"index_select(): a 0-d input takes one index, got {index_array.size}")
        return Gather.apply(x, index=index_array.reshape(()), axis=0)
    return IndexSelect.apply(x, index=index_array, axis=axis)
