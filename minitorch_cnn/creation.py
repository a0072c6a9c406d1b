"""Making tensors: mt.tensor(data) and the zeros / ones / randn / rand factories, with
PyTorch's dtype rules, and the dtype names (mt.float32, ...)."""
import numpy as np

from . import backend
from .formats import (channels_last, contiguous_format, layout, memory_format,  # noqa: F401  (mt.*)
                      preserve_format, strided)
from .ops.promotion import check_fits
from .ops.shape import size_arg
from .random import get_rng   # the engine's seeded generator (mt.manual_seed)
from .tensor import Tensor, as_dtype, shape_args

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int32, int64, uint8, bool_ = np.int8, np.int32, np.int64, np.uint8, np.bool_


def check_unbuilt(op, out=None, layout=None, pin_memory=False, memory_format=None, generator=None):
    """torch's factory parameters whose features are not built here: accepted at their defaults,
    refused by name otherwise."""
    if out is not None:
        raise RuntimeError(f"{op}: out= is not supported by minitorch_cnn (only out=None); "
                           f"use the returned tensor (or out.copy_(result))")
    if layout is not None and str(layout) != str(strided):
        raise RuntimeError(f"{op}: layout={layout} is not supported (only dense torch.strided tensors)")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True is not supported for a new tensor here "
                           f"(the DataLoader's pin_memory is the place for it)")
    if memory_format is not None and str(memory_format) not in (str(preserve_format), str(contiguous_format)):
        raise RuntimeError(f"{op}: memory_format={memory_format} is not supported (only "
                           f"torch.preserve_format and torch.contiguous_format)")
    if generator is not None:
        raise RuntimeError(f"{op}: generator= is not supported by minitorch_cnn (only generator=None: "
                           f"seed the engine's generator with manual_seed)")


def _device(device):
    return "cpu" if device is None else device


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Make a new leaf tensor from data (always a copy, as torch.tensor).

    Dtype as in PyTorch: an array keeps its dtype; Python floats become float32,
    Python ints int64, bools bool.
    """
    check_unbuilt("tensor", pin_memory=pin_memory)
    if isinstance(data, Tensor):
        data = data.array
    elif hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        xp = backend.get_array_module(data)
        array = xp.array(data, dtype=as_dtype(dtype), copy=True)
        if array.dtype.kind not in "biuf":   # complex, strings, objects: the engine has no kernels for them
            raise TypeError(f"tensor: expected an array of numbers, got dtype {array.dtype} "
                            f"(complex dtypes are not supported)")
    else:
        try:
            array = np.array(data)
        except ValueError as exc:   # ragged nesting
            raise ValueError(f"tensor: expected a rectangular nesting of numbers ({exc})") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(f"tensor: expected numbers, got {type(data).__name__} {data!r:.60} "
                            f"(which NumPy reads as dtype {array.dtype})")
        if dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)   # Python floats default to float32
        elif dtype is None and array.dtype.kind == "i":
            array = array.astype(np.int64)
        elif dtype is not None:
            if as_dtype(dtype).kind not in "biuf":
                raise TypeError(f"tensor: dtype {as_dtype(dtype)} is not supported (complex dtypes are not)")
            array = array.astype(as_dtype(dtype))
    if device is not None:   # None: where the data is (a CuPy array stays on the GPU, as torch.tensor)
        array = backend.to_device(array, device)
    if requires_grad and array.dtype.kind not in "fc":
        raise RuntimeError(f"only floating point tensors can require gradients, got dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)


def _size(op, args, size=None):
    """A factory's size, given as ints (zeros(2, 3)), one sequence (zeros((2, 3))) or size=...;
    floats, bools and negative sizes refused as torch refuses them."""
    if size is not None:
        if args:
            raise TypeError(f"{op}: the size was given both positionally and as size=")
        args = (size,)
    if not args:
        raise TypeError(f"{op}: missing the size")
    if len(args) == 1 and not isinstance(args[0], (tuple, list)) and not _is_int(args[0]):
        raise TypeError(f"{op}: size must be a tuple of ints, got {type(args[0]).__name__}")
    shape = tuple(size_arg(op, n) for n in shape_args(args))
    for n in shape:
        if n < 0:
            raise RuntimeError(f"{op}: trying to create a tensor with negative dimension {n}: {list(shape)}")
    return shape


def _is_int(n):
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def _check_grad(op, dtype, requires_grad):
    if requires_grad and np.dtype(dtype).kind != "f":
        raise RuntimeError(f"{op}: only tensors of floating point dtype can require gradients, got {np.dtype(dtype)}")


def _check_random_dtype(name, floating_only, dtype, has_elements):
    """rand refuses integer dtypes always; randn, as torch, only when it has values to draw."""
    if floating_only and dtype.kind != "f" and (has_elements or name.startswith("rand") and
                                                  not name.startswith("randn")):
        raise RuntimeError(f"{name}: expected a floating point dtype, got {dtype}")


def _factory(name, fill, doc, floating_only=False):
    """A torch-style creation function: name(*size, out, dtype, layout, device, requires_grad),
    and for the random ones generator= first and pin_memory= last, as torch's."""
    def make(*size_, size=None, out=None, dtype=None, layout=strided, device=None, requires_grad=False):
        return _make(size_, size, out, dtype, layout, device, requires_grad)

    def make_random(*size_, size=None, generator=None, out=None, dtype=None, layout=strided, device=None,
                    requires_grad=False, pin_memory=False):
        check_unbuilt(name, generator=generator, pin_memory=pin_memory)
        return _make(size_, size, out, dtype, layout, device, requires_grad)

    def _make(size_, size, out, dtype, layout, device, requires_grad):
        check_unbuilt(name, out=out, layout=layout)
        device = _device(device)
        shape = _size(name, size_, size)
        dtype = np.dtype(np.float32) if dtype is None else as_dtype(dtype)
        _check_random_dtype(name, floating_only, dtype, 0 not in shape)
        _check_grad(name, dtype, requires_grad)
        array = fill(shape, dtype)
        return Tensor(backend.to_device(array, device), requires_grad=requires_grad)
    chosen = make_random if floating_only else make
    chosen.__name__, chosen.__qualname__, chosen.__doc__ = name, name, doc
    return chosen


zeros = _factory("zeros", np.zeros, "A new tensor of zeros (float32 unless dtype says otherwise).")
ones = _factory("ones", np.ones, "A new tensor of ones (float32 unless dtype says otherwise).")
randn = _factory("randn", lambda shape, dtype: get_rng().standard_normal(shape).astype(dtype),
                 "Standard normal samples from the engine's seeded generator (floating dtypes only).",
                 floating_only=True)
rand = _factory("rand", lambda shape, dtype: get_rng().random(shape).astype(dtype),
                "Uniform [0, 1) samples from the engine's seeded generator (floating dtypes only).",
                floating_only=True)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=strided,
            device=None, requires_grad=False):
    """Integers uniform in [low, high) from the engine's seeded generator, int64 unless dtype says
    otherwise; randint(high, size) starts at 0, as torch's overloads."""
    check_unbuilt("randint", out=out, layout=layout, generator=generator)
    if size is None and isinstance(high, (tuple, list)):   # randint(high, size)
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    low, high = (_number("randint", v, name) for v, name in ((low, "low"), (high, "high")))
    if not high > low:
        raise RuntimeError(f"randint: expected low < high, got low={low} and high={high}")
    shape = _size("randint", (tuple(size) if isinstance(size, (tuple, list)) else size,))
    dtype = np.dtype(np.int64) if dtype is None else as_dtype(dtype)
    _check_grad("randint", dtype, requires_grad)
    array = get_rng().integers(int(low), int(high), shape).astype(dtype)
    return Tensor(backend.to_device(array, _device(device)), requires_grad=requires_grad)


# ---- full, arange --------------------------------------------------------------------------
def _number(op, value, what):
    """A Python number from a number or a one-element tensor; anything else a TypeError."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise TypeError(f"{op}: {what} must be a number, got a tensor of shape {value.shape}")
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"{op}: {what} must be a number, got {type(value).__name__}")
    return value


def _fill_dtype(value):
    """torch's dtype for a fill value: bool, int64 or the default float32."""
    return np.dtype(np.bool_ if isinstance(value, bool) else np.int64 if isinstance(value, int) else np.float32)


def full(size, fill_value, *, out=None, dtype=None, layout=strided, device=None, requires_grad=False):
    """A new tensor of `size` (a tuple or list) filled with fill_value; the dtype, unless given,
    follows the value as in torch: bool -> bool, int -> int64, float -> float32."""
    check_unbuilt("full", out=out, layout=layout)
    return _full("full", size, fill_value, dtype, requires_grad, _device(device))


def _full(op, size, fill_value, dtype, requires_grad, device):
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{op}: size must be a tuple of ints, got {type(size).__name__}")
    shape = _size(op, (tuple(size),))
    value = _number(op, fill_value, "fill_value")
    dtype = _fill_dtype(value) if dtype is None else as_dtype(dtype)
    check_fits(op, value, dtype, int(np.prod(shape)))
    _check_grad(op, dtype, requires_grad)
    with np.errstate(over="ignore"):
        array = np.full(shape, np.asarray(value).astype(dtype), dtype=dtype)
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=strided, device=None,
           requires_grad=False):
    """[start, start + step, ...) up to end (exclusive); arange(end) starts at 0.  The dtype,
    unless given, is int64 for int arguments and float32 when any is a float (torch's rule).
    The length is ceil((end - start) / step) and element i is start + i·step, computed in float64
    (float32 for float16) or in integers (start and step truncated), as torch computes them; for
    int64 end is truncated too before the length is taken (torch's int64 path).  Floats may differ
    from torch's in the last bit: torch's vectorised kernel adds the step in another order."""
    check_unbuilt("arange", out=out, layout=layout)
    device = _device(device)
    if end is None:
        start, end = 0, start
    start, end, step = (_number("arange", v, name) for v, name in ((start, "start"), (end, "end"), (step, "step")))
    if dtype is None:
        dtype = np.dtype(np.float32 if any(isinstance(v, float) for v in (start, end, step)) else np.int64)
    dtype = as_dtype(dtype)
    if dtype.kind == "b":
        raise RuntimeError("arange: not implemented for bool")
    if not all(np.isfinite(float(v)) for v in (start, end, step)):
        raise RuntimeError(f"arange: unsupported range {start} -> {end} (step {step})")
    given = start, end, step
    if dtype == np.int64:
        start, end, step = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if (given[1] - given[0]) * given[2] < 0:     # torch checks the direction on the values as given
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    if dtype.kind in "iu":
        count = -((start - end) // step) if dtype == np.int64 else int(np.ceil((end - start) / step))
        array = (int(start) + int(step) * np.arange(count, dtype=np.int64)).astype(dtype)
    else:
        count = int(np.ceil((end - start) / step))
        accumulate = np.float32 if dtype == np.float16 else np.float64   # torch's CPU accumulate types
        index = np.arange(count, dtype=accumulate)
        array = (accumulate(start) + accumulate(step) * index).astype(dtype)
    _check_grad("arange", dtype, requires_grad)
    return Tensor(backend.to_device(array, device), requires_grad=requires_grad)


# ---- *_like --------------------------------------------------------------------------------
def _like(name, fill, doc, floating_only=False):
    def make(input, *, dtype=None, layout=None, device=None, requires_grad=False,  # noqa: A002
             memory_format=preserve_format):
        return _make(input, dtype, layout, device, requires_grad, memory_format)

    def make_random(input, *, generator=None, dtype=None, layout=None, device=None,  # noqa: A002
                    requires_grad=False, memory_format=preserve_format):
        check_unbuilt(name, generator=generator)
        return _make(input, dtype, layout, device, requires_grad, memory_format)

    def _make(input, dtype, layout, device, requires_grad, memory_format):  # noqa: A002
        check_unbuilt(name, layout=layout, memory_format=memory_format)
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(input).__name__}")
        dtype = input.dtype if dtype is None else as_dtype(dtype)
        _check_random_dtype(name, floating_only, dtype, input.numel() > 0)
        _check_grad(name, dtype, requires_grad)
        array = fill(input.shape, dtype)
        return Tensor(backend.to_device(array, input.device if device is None else device),
                      requires_grad=requires_grad)
    chosen = make_random if floating_only else make
    chosen.__name__, chosen.__qualname__, chosen.__doc__ = name, name, doc
    return chosen


zeros_like = _like("zeros_like", np.zeros, "A new tensor of zeros shaped like input (its dtype and device unless given).")
ones_like = _like("ones_like", np.ones, "A new tensor of ones shaped like input (its dtype and device unless given).")
rand_like = _like("rand_like", lambda shape, dtype: get_rng().random(shape).astype(dtype),
                  "Uniform [0, 1) samples shaped like input (floating dtypes only).", floating_only=True)
randn_like = _like("randn_like", lambda shape, dtype: get_rng().standard_normal(shape).astype(dtype),
                   "Standard normal samples shaped like input (floating dtypes only).", floating_only=True)


def full_like(input, fill_value, *, dtype=None, layout=strided, device=None,  # noqa: A002
              requires_grad=False, memory_format=preserve_format):
    """A new tensor shaped like input filled with fill_value, in input's dtype unless given
    (a float fills an integer tensor truncated, as torch)."""
    check_unbuilt("full_like", layout=layout, memory_format=memory_format)
    if not isinstance(input, Tensor):
        raise TypeError(f"full_like: expected a tensor, got {type(input).__name__}")
    return _full("full_like", input.shape, fill_value, input.dtype if dtype is None else dtype,
                 requires_grad, input.device if device is None else device)


def from_numpy(ndarray):
    """A tensor over the very same memory as the NumPy array (writes show in both), as
    torch.from_numpy; negative strides, other byte orders and non-numeric dtypes refused as torch."""
    array = ndarray
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: can't convert an array of dtype {array.dtype}; supported: "
                        "float64, float32, float16, int64, int32, int16, int8, uint8 and bool")
    if not array.dtype.isnative:
        raise ValueError("from_numpy: the array's byte order differs from the native byte order")
    if any(s < 0 for s in array.strides):
        raise ValueError("from_numpy: at least one stride of the array is negative, which torch does "
                         "not support either; pass array.copy()")
    return Tensor(array)
