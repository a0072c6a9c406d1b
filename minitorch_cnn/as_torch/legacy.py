"""torch.Tensor and torch.FloatTensor/DoubleTensor/LongTensor/... as a script sees them.

`torch.Tensor` is two things in PyTorch: the class (`isinstance(x, torch.Tensor)`,
`torch.Tensor.numpy`) and a legacy constructor that always makes the default dtype:
`torch.Tensor([1, 2])` is float32, `torch.Tensor(3, 4)` an uninitialised 3x4 float32 tensor
(tutorials' custom layers write `nn.Parameter(torch.Tensor(out, in))` and then initialise it).
The engine's own `Tensor(...)` keeps its argument's dtype (it wraps arrays), so under the runner
`torch.Tensor` is the class below: calling it is torch's constructor, isinstance and attribute
reads go to the engine's Tensor.  The typed names (`torch.LongTensor`, ...) make their dtype.
"""
import numbers

import numpy as np

import minitorch_cnn as mt
from minitorch_cnn import Tensor as EngineTensor


class _LegacyMeta(type):
    """isinstance/issubclass/attributes answer as the engine's Tensor; a call constructs."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, EngineTensor)

    def __subclasscheck__(cls, other):
        return issubclass(other, EngineTensor)

    def __getattr__(cls, name):
        return getattr(EngineTensor, name)

    def __call__(cls, *args, device=None, **others):
        if others:
            raise TypeError(f"torch.{cls.__name__}(): takes sizes or data and device= only, got "
                            f"{', '.join(others)}= (torch.tensor(data, dtype=...) takes a dtype)")
        return _construct(cls.__name__, cls.dtype, args, device)


def _construct(name, dtype, args, device):
    """torch's legacy constructor: no args -> empty; ints -> that shape (zeros here, where torch
    leaves memory uninitialised); one sequence, array or tensor -> its values in `dtype`."""
    if not args:
        values = np.zeros(0, dtype=dtype)
    elif all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        values = np.zeros(tuple(int(a) for a in args), dtype=dtype)
    elif len(args) == 1 and isinstance(args[0], EngineTensor):
        return args[0].detach().to(dtype=dtype) if device is None else args[0].detach().to(device, dtype)
    elif len(args) == 1 and (isinstance(args[0], (list, tuple)) or hasattr(args[0], "__array__")):
        values = np.asarray(args[0])
        if values.dtype.kind not in "biuf":
            raise TypeError(f"torch.{name}: expected numbers, got an array of dtype {values.dtype}")
        values = values.astype(dtype)
    else:
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"torch.{name}(): expected sizes (ints), or one sequence, array or tensor of "
                        f"data, got ({got})")
    out = mt.from_numpy(values)
    return out if device is None else out.to(device)


class Tensor(metaclass=_LegacyMeta):
    dtype = np.float32


def _typed(name, dtype):
    return _LegacyMeta(name, (), {"dtype": dtype, "__doc__": f"torch.{name}: the legacy {np.dtype(dtype)} "
                                                              f"constructor (isinstance: an engine Tensor "
                                                              f"of that dtype)",
                                  "__module__": __name__})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
ByteTensor = _typed("ByteTensor", np.uint8)
CharTensor = _typed("CharTensor", np.int8)
BoolTensor = _typed("BoolTensor", np.bool_)


def _typed_instancecheck(cls, obj):
    return isinstance(obj, EngineTensor) and (cls is Tensor or obj.dtype == np.dtype(cls.dtype))


_LegacyMeta.__instancecheck__ = _typed_instancecheck
