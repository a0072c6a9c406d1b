"""Tensor methods that make a tensor like another: the dtype casts (.bool(), .int(), .half()),
type_as, view_as, reshape_as, expand_as, and the new_* factories (new_zeros, new_ones,
new_full, new_empty, new_tensor), which take self's dtype and device unless told otherwise.

The casts go through Tensor.to (a recorded Cast when a gradient flows); the factories make leaf
tensors here (creation.py imports the Tensor whose methods these are, so it cannot serve them).
"""
import inspect
import math

import numpy as np

from .. import backend
from ..backend import as_dtype
from ..core.tensor import Tensor
from .promotion import check_fits, is_number
from .shape import CONTIGUOUS_FORMAT, PRESERVE_FORMAT, STRIDED, size_arg  # noqa: F401  (tensor.py's defaults)


def check_contiguous_format(op, memory_format):
    """contiguous()/is_contiguous() know C order only (torch.contiguous_format)."""
    if str(memory_format) != str(CONTIGUOUS_FORMAT):
        raise RuntimeError(f"{op}: memory_format={memory_format} is not supported (only "
                           f"torch.contiguous_format: arrays here are C-ordered or views of them)")


def _other(op, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{op}(): argument 'other' (position 1) must be Tensor, not {type(other).__name__}")
    return other


def cast(x, dtype, memory_format, device=None):
    """x.to(device, dtype): a recorded cast when a gradient flows, x itself when nothing changes."""
    if str(memory_format) == str(CONTIGUOUS_FORMAT):
        return x.to(device=device, dtype=dtype).contiguous()
    if str(memory_format) != str(PRESERVE_FORMAT):
        raise RuntimeError(f"memory_format={memory_format} is not supported: minitorch_cnn keeps each "
                           f"tensor's own layout (torch.preserve_format) or makes it C-ordered "
                           f"(torch.contiguous_format)")
    return x.to(device=device, dtype=dtype)


def type_as(x, tensor):
    """x cast to tensor's dtype (and moved to its device), as torch's type_as."""
    other = _other("type_as", tensor)
    return x.to(device=other.device, dtype=other.dtype)


def view_as(x, other):
    """x.view(other.shape): shares x's memory; dx = g reshaped back."""
    return x.view(_other("view_as", other).shape)


def reshape_as(x, other):
    """x.reshape(other.shape): a view when the strides allow, else a copy; dx = g reshaped back."""
    return x.reshape(_other("reshape_as", other).shape)


def expand_as(x, other):
    """x.expand(other.shape) (no copy); dx = g summed over the expanded dims."""
    return x.expand(_other("expand_as", other).shape)


def _size(op, size):
    """new_zeros(2, 3), new_zeros((2, 3)) and new_zeros([2, 3]) all mean (2, 3)."""
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


def _check_layout(op, layout, pin_memory):
    if str(layout) != str(STRIDED):
        raise RuntimeError(f"{op}: layout={layout} is not supported (only dense torch.strided tensors)")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True is not supported for a new tensor here "
                           f"(the DataLoader's pin_memory is the place for it)")


def new_filled(op, x, size, fill_value, dtype, device, requires_grad, layout, pin_memory):
    """A new leaf tensor of `size` filled with fill_value, self's dtype and device unless given."""
    _check_layout(op, layout, pin_memory)
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{op}(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = tuple(size_arg(op, n) for n in size)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{op}: trying to create a tensor with negative dimension in size {list(shape)}")
    if isinstance(fill_value, Tensor) and fill_value.numel() == 1:
        fill_value = fill_value.item()
    if isinstance(fill_value, np.generic):
        fill_value = fill_value.item()
    if not is_number(fill_value) and fill_value is not None:
        raise TypeError(f"{op}: fill_value must be a number, got {type(fill_value).__name__}")
    dtype = x.dtype if dtype is None else as_dtype(dtype)
    if fill_value is not None:     # (new_empty: torch leaves the values unset; zeros here)
        check_fits(op, fill_value, dtype, math.prod(shape))
    with np.errstate(over="ignore", invalid="ignore"):
        array = np.full(shape, np.asarray(fill_value or 0).astype(dtype), dtype=dtype)
    return _leaf(op, array, x.device if device is None else device, requires_grad)


def new_tensor(x, data, dtype, device, requires_grad, layout, pin_memory):
    """A new leaf tensor holding a copy of data, self's dtype and device unless given."""
    op = "new_tensor"
    _check_layout(op, layout, pin_memory)
    if isinstance(data, Tensor):
        data = data.array
    try:
        array = np.array(backend.to_numpy(data) if hasattr(data, "shape") else data)
    except ValueError as exc:        # ragged nesting
        raise ValueError(f"{op}: expected a rectangular nesting of numbers ({exc})") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{op}: expected numbers, got data NumPy reads as dtype {array.dtype} "
                        f"(complex dtypes are not supported)")
    dtype = x.dtype if dtype is None else as_dtype(dtype)
    with np.errstate(invalid="ignore"):
        array = array.astype(dtype)
    return _leaf(op, array, x.device if device is None else device, requires_grad)


def _leaf(op, array, device, requires_grad):
    if requires_grad and array.dtype.kind != "f":
        raise RuntimeError(f"{op}: only Tensors of floating point dtype can require gradients, got "
                           f"dtype {array.dtype}")
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


BOOL, INT32, FLOAT16 = np.dtype(np.bool_), np.dtype(np.int32), np.dtype(np.float16)


def documented_as(signature_of):
    """Give a new_zeros-style method the signature torch documents, `(self, size, *, dtype=None,
    ...)`: torch's parser also takes the sizes spread out (x.new_zeros(2, 3)), which Python can
    only write as *size, so the method is written so and shows torch's documented signature."""
    def attach(method):
        method.__signature__ = inspect.signature(signature_of)
        return method
    return attach


def _new_factory_signature(self, size, *, dtype=None, device=None, requires_grad=False, layout=STRIDED,
                           pin_memory=False):
    """torch's documented signature of new_zeros, new_ones and new_empty."""
