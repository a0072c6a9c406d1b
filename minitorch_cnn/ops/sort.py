"""sort and argsort, with torch's signatures and order rules.

Both sort stably here (equal values keep their order; torch leaves the order of ties unspecified
unless stable=True, so this is always one of torch's answers), NaN counting as larger than every
number: last ascending, first descending, as torch.  sort's values are a Gather of the input at
the indices (reduce.py), so the gradient goes back to where each value came from.
"""
import numpy as np

from ..backend import get_array_module
from ..core.tensor import Tensor
from .reduce import Gather, _check_bool, _identity, _no_out, _one_dim, _order, _return_type, _tensor

sort_result = _return_type("sort")


def _sorted_indices(op, x, dim, descending, stable):
    x = _tensor(op, x)
    axis = _one_dim(op, dim, x.ndim)
    _check_bool(op, "descending", descending)
    if stable is not None:
        _check_bool(op, "stable", stable)
    if x.ndim == 0:
        return x, axis, get_array_module(x.array).zeros((), dtype=np.int64)
    return x, axis, _order(x.array, axis, descending).astype(np.int64, copy=False)


def sort(input, dim=-1, descending=False, *, stable=False, out=None):  # noqa: A002  (torch's names)
    """Sort along dim -> (values, indices), both x's shape; indices (int64) say where each value
    was along dim.  stable=False sorts stably too.  dx = g put back at the indices."""
    _no_out("sort", out)
    x, axis, index = _sorted_indices("sort", input, dim, descending, stable)
    if x.ndim == 0:
        return sort_result(_identity(x), Tensor(index))
    return sort_result(Gather.apply(x, index=index, axis=axis, keepdim=True), Tensor(index))


def argsort(input, dim=-1, descending=False, *, stable=False):  # noqa: A002
    """The int64 indices that sort x along dim (sort(...).indices), x's shape.  No gradient."""
    return Tensor(_sorted_indices("argsort", input, dim, descending, stable)[2])
