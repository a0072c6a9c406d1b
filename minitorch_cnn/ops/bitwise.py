"""Bitwise and logical ops: ~ & | ^ (bitwise_not/and/or/xor) and logical_not/and/or/xor.

The bitwise ops take bool and integer tensors only, as torch (on bool they are the logical
ops); operands promote by torch's rules (promotion.py), a Python int wrapping into a narrower
integer dtype.  The logical ops take any dtype (nonzero is True, NaN included) and return bool.
None of them has a gradient: their results are integers or bools.
"""
import numpy as np

from ..backend import get_array_module
from ..core.tensor import Tensor
from .elementwise import _binary_dtype, _no_out, _tensor_arg, _wrapped, check_same_device
from .promotion import FLOAT, category

_BITWISE = {"bitwise_and": "bitwise_and", "bitwise_or": "bitwise_or", "bitwise_xor": "bitwise_xor"}
_LOGICAL = {"logical_and": "logical_and", "logical_or": "logical_or", "logical_xor": "logical_xor"}


def _raw(xp, value, dtype):
    """A tensor's array or a number, as an array of `dtype` (numbers wrap as torch casts them)."""
    if isinstance(value, Tensor):
        return value.array.astype(dtype, copy=False)
    return xp.asarray(np.asarray(value).astype(dtype))


def _array_module_of(*values):
    for v in values:
        if isinstance(v, Tensor):
            return get_array_module(v.array)
    return np


def _bitwise(op, input, other):  # noqa: A002
    a, b, dtype = _binary_dtype(op, input, other)
    if category(dtype) == FLOAT:
        raise NotImplementedError(f'"{op}" not implemented for \'{dtype}\': bitwise ops take bool and '
                                  f'integer tensors only')
    check_same_device(op, (a, b))
    a, b = _wrapped((a, b), dtype)
    xp = _array_module_of(a, b)
    return Tensor(getattr(xp, _BITWISE[op])(_raw(xp, a, dtype), _raw(xp, b, dtype)))


def bitwise_and(input, other, *, out=None):  # noqa: A002  (torch's names)
    """out = input & other, bool or integer operands broadcast -> the broadcast shape, promoted
    dtype (bool & bool is logical and).  No gradient."""
    _no_out("bitwise_and", out)
    return _bitwise("bitwise_and", input, other)


def bitwise_or(input, other, *, out=None):  # noqa: A002
    """out = input | other, bool or integer operands -> the broadcast shape.  No gradient."""
    _no_out("bitwise_or", out)
    return _bitwise("bitwise_or", input, other)


def bitwise_xor(input, other, *, out=None):  # noqa: A002
    """out = input ^ other, bool or integer operands -> the broadcast shape.  No gradient."""
    _no_out("bitwise_xor", out)
    return _bitwise("bitwise_xor", input, other)


def bitwise_not(input, *, out=None):  # noqa: A002
    """out = ~input (two's complement for integers, logical not for bool), same shape and dtype.
    Floating tensors are refused, as torch."""
    _no_out("bitwise_not", out)
    x = _tensor_arg("bitwise_not", input)
    if category(x.dtype) == FLOAT:
        raise NotImplementedError(f'"bitwise_not" not implemented for \'{x.dtype}\': it takes integer '
                                  f'and bool tensors only; use logical_not for a bool result')
    return Tensor(get_array_module(x.array).invert(x.array))


def invert(x):
    """~x: bitwise_not, with the TypeError torch's operator raises for a floating tensor."""
    if category(x.dtype) == FLOAT:
        raise TypeError(f"~ (operator.invert) is only implemented on integer and bool tensors, got "
                        f"dtype {x.dtype}; use logical_not for a bool result")
    return bitwise_not(x)


def logical_not(input, *, out=None):  # noqa: A002
    """out = (input == 0) as bool, same shape (NaN counts as True, so gives False).  No gradient."""
    _no_out("logical_not", out)
    x = _tensor_arg("logical_not", input)
    return Tensor(get_array_module(x.array).logical_not(x.array))


def _logical(op, input, other):  # noqa: A002
    x = _tensor_arg(op, input)
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}: expected a tensor as other, got {type(other).__name__}")
    _binary_dtype(op, x, other)      # shape check, in the op's words
    check_same_device(op, (x, other))
    xp = get_array_module(x.array)
    return Tensor(getattr(xp, _LOGICAL[op])(x.array, other.array))


def logical_and(input, other, *, out=None):  # noqa: A002
    """out = input and other (nonzero is True), any dtypes broadcast -> a bool tensor."""
    _no_out("logical_and", out)
    return _logical("logical_and", input, other)


def logical_or(input, other, *, out=None):  # noqa: A002
    """out = input or other (nonzero is True), any dtypes broadcast -> a bool tensor."""
    _no_out("logical_or", out)
    return _logical("logical_or", input, other)


def logical_xor(input, other, *, out=None):  # noqa: A002
    """out = input xor other (nonzero is True), any dtypes broadcast -> a bool tensor."""
    _no_out("logical_xor", out)
    return _logical("logical_xor", input, other)

