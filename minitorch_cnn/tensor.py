"""The Tensor's methods: torch's API over the ops (the class itself is minitorch_cnn/core/tensor.py).

The one place where the imports point back.  The core Tensor holds data, grad and the graph
node; autograd and every op are built on it and import it.  Its methods call them, so they are
written here, once the ops exist, as the body of `_TensorMethods`, and bound onto the core
class by the loop at the bottom of this file: `minitorch_cnn.Tensor` is one class, the core's.
"""
import numpy as np

from . import backend
from .backend import as_dtype  # noqa: F401  (minitorch_cnn.tensor.as_dtype, as before)
from .core import autograd
from .core.autograd import is_grad_enabled
from .core.tensor import Tensor
from .ops import activation, elementwise, inplace, matmul, reduce, shape


class _TensorMethods:
    """Bound onto core.tensor.Tensor below; never instantiated."""
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def size(self, dim=None): return self.shape if dim is None else self.shape[dim]
    def numel(self):          return int(self.data.size)
    def dim(self):            return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.data), separator=", ", prefix="tensor(")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.function.__name__}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---- autograd ---------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (grad defaults to 1 for scalars)."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        xp = backend.get_array_module(self.data)
        if grad is None and self.data.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                               f"this tensor has shape {self.shape}")
        array = xp.ones_like(self.data) if grad is None else grad.data if isinstance(grad, Tensor) else grad
        if hasattr(array, "shape") and backend.device_of(array) != self.device:
            raise RuntimeError(f"backward: grad is on device '{backend.device_of(array)}', "
                               f"but the tensor is on '{self.device}'")
        grad = array if isinstance(grad, Tensor) or grad is None else xp.asarray(grad, dtype=self.dtype)
        if tuple(grad.shape) != self.shape:
            raise RuntimeError(f"backward: grad has shape {tuple(grad.shape)}, "
                               f"expected the tensor's shape {self.shape}")
        autograd.backward(self, grad, retain_graph=retain_graph)

    def requires_grad_(self, flag=True):
        _check_requires_grad(self, flag, "requires_grad_")
        self.requires_grad = bool(flag)
        return self

    def _set_requires_grad(self, flag):
        """x.requires_grad = flag, with torch's two refusals (the core stores the plain flag)."""
        _check_requires_grad(self, flag, "requires_grad")
        self.__dict__["requires_grad"] = bool(flag)

    requires_grad = property(lambda self: self.__dict__.get("requires_grad", False), _set_requires_grad)

    # ---- in-place ops (rules and version counting in ops/inplace.py) -------
    def add_(self, other, *, alpha=1):
        return inplace.in_place(self, "add_", lambda x, y: x + (y if alpha == 1 else y * alpha), other)

    def sub_(self, other, *, alpha=1):
        return inplace.in_place(self, "sub_", lambda x, y: x - (y if alpha == 1 else y * alpha), other)

    def mul_(self, other): return inplace.in_place(self, "mul_", elementwise.mul, other)
    def div_(self, other): return inplace.in_place(self, "div_", elementwise.div, other)
    def fill_(self, value): return inplace.in_place(self, "fill_", inplace.fill, value)
    def zero_(self):        return inplace.in_place(self, "zero_", inplace.fill, 0)
    def copy_(self, src):   return inplace.in_place(self, "copy_", inplace.copy, src, elementwise=False)

    def clamp_(self, min=None, max=None):   # noqa: A002  (torch's names)
        return inplace.in_place(self, "clamp_", lambda x, lo, hi: x.clamp(lo, hi), min, max)

    def __iadd__(self, other):     return self.add_(other)
    def __isub__(self, other):     return self.sub_(other)
    def __imul__(self, other):     return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)

    # ---- conversion -------------------------------------------------------
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy() instead")
        if self.device != "cpu":
            raise TypeError(f"can't convert a {self.device} tensor to numpy; "
                            "use tensor.cpu() to copy it to host memory first")
        return self.data

    def tolist(self):
        return backend.to_numpy(self.data).tolist()

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def to(self, device=None, dtype=None):
        """Tensor.to('cuda' | 'cpu' | dtype): a new leaf when anything changes, else self."""
        if dtype is None and device is not None and not isinstance(device, str):
            try:  # .to(float64) as in torch
                device, dtype = None, as_dtype(device)
            except TypeError:
                pass
        data = self.data
        if device is not None and backend.normalize_device(device) != self.device:
            data = backend.to_device(data, device)
        if dtype is not None and as_dtype(dtype) != data.dtype:
            with np.errstate(invalid="ignore"):     # NaN to int: no warning, as torch
                data = data.astype(as_dtype(dtype))
        if data is self.data:
            return self
        if self.requires_grad and is_grad_enabled():
            return shape.Cast.apply(self, device=backend.device_of(data), dtype=data.dtype)
        return Tensor(data)

    def cpu(self):        return self.to("cpu")
    def cuda(self):       return self.to("cuda")
    def float(self):      return self.to(dtype=np.float32)
    def double(self):     return self.to(dtype=np.float64)
    def long(self):       return self.to(dtype=np.int64)
    def contiguous(self): return shape.contiguous(self)   # a C-order copy when not C-order (view needs one)

    # ---- operators (the ops live in minitorch_cnn/ops) --------------------
    # NumPy defers to these operators (np.float64(2) * x is a Tensor, as in torch), not the
    # other way round.
    __array_priority__ = 1000

    def __add__(self, other):  return elementwise.add(self, other)
    def __radd__(self, other): return elementwise.add(other, self)
    def __sub__(self, other):  return elementwise.sub(self, other)
    def __rsub__(self, other): return elementwise.sub(other, self)
    def __mul__(self, other):  return elementwise.mul(self, other)
    def __rmul__(self, other): return elementwise.mul(other, self)
    def __truediv__(self, other):  return elementwise.div(self, other)
    def __rtruediv__(self, other): return elementwise.div(other, self)
    def __pow__(self, other):  return elementwise.pow(self, other)
    def __rpow__(self, other): return elementwise.pow(other, self)
    def __neg__(self):         return elementwise.neg(self)
    def __abs__(self):         return elementwise.abs(self)
    def __matmul__(self, other):  return matmul.matmul(self, other)
    def __rmatmul__(self, other): return matmul.matmul(other, self)

    def __lt__(self, other): return elementwise.compare(self, other, "lt")
    def __le__(self, other): return elementwise.compare(self, other, "le")
    def __gt__(self, other): return elementwise.compare(self, other, "gt")
    def __ge__(self, other): return elementwise.compare(self, other, "ge")

    # == and != with something that is no tensor or number fall back to identity (False /
    # True), as torch: `x == None` is False, not an error.
    def __eq__(self, other):
        return elementwise.compare(self, other, "eq") if _comparable(other) else NotImplemented

    def __ne__(self, other):
        return elementwise.compare(self, other, "ne") if _comparable(other) else NotImplemented

    def add(self, other): return elementwise.add(self, other)
    def sub(self, other): return elementwise.sub(self, other)
    def mul(self, other): return elementwise.mul(self, other)
    def div(self, other): return elementwise.div(self, other)
    def pow(self, exponent): return elementwise.pow(self, exponent)
    def neg(self):        return elementwise.neg(self)
    def eq(self, other):  return elementwise.eq(self, other)
    def ne(self, other):  return elementwise.ne(self, other)
    def lt(self, other):  return elementwise.lt(self, other)
    def le(self, other):  return elementwise.le(self, other)
    def gt(self, other):  return elementwise.gt(self, other)
    def ge(self, other):  return elementwise.ge(self, other)
    def clamp(self, min=None, max=None): return elementwise.clamp(self, min, max)  # noqa: A002
    def clip(self, min=None, max=None):  return elementwise.clip(self, min, max)  # noqa: A002
    def where(self, condition, other): return elementwise.where(condition, self, other)
    def masked_fill(self, mask, value): return elementwise.masked_fill(self, mask, value)

    def __getitem__(self, index): return shape.getitem(self, index)

    def __setitem__(self, index, value):
        """x[index] = value, in place (recorded like any in-place op when a gradient is)."""
        inplace.set_item(self, index, value)

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __float__(self): return float(self.item())
    def __int__(self):   return int(self.item())

    def exp(self):  return elementwise.exp(self)
    def log(self):  return elementwise.log(self)
    def sqrt(self): return elementwise.sqrt(self)
    def abs(self):  return elementwise.abs(self)

    # Reductions: torch's signatures (dim/keepdim, axis/keepdims accepted too); see ops/reduce.py.
    def sum(self, *args, **kwargs):    return reduce.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs):   return reduce.mean(self, *args, **kwargs)
    def max(self, *args, **kwargs):    return reduce.max(self, *args, **kwargs)
    def min(self, *args, **kwargs):    return reduce.min(self, *args, **kwargs)
    def amax(self, *args, **kwargs):   return reduce.amax(self, *args, **kwargs)
    def amin(self, *args, **kwargs):   return reduce.amin(self, *args, **kwargs)
    def argmax(self, *args, **kwargs): return reduce.argmax(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return reduce.argmin(self, *args, **kwargs)
    def topk(self, *args, **kwargs):   return reduce.topk(self, *args, **kwargs)
    def var(self, *args, **kwargs):    return reduce.var(self, *args, **kwargs)
    def std(self, *args, **kwargs):    return reduce.std(self, *args, **kwargs)
    def norm(self, *args, **kwargs):   return reduce.norm(self, *args, **kwargs)

    def reshape(self, *shape_): return shape.reshape(self, shape_args(_some("reshape", shape_)))
    def view(self, *shape_):    return shape.view(self, shape_args(_some("view", shape_)))
    def expand(self, *sizes):   return shape.expand(self, shape_args(_some("expand", sizes)))
    def expand_as(self, other): return shape.expand(self, other.shape)
    def repeat(self, *sizes):   return shape.repeat(self, shape_args(_some("repeat", sizes)))
    def clone(self):            return shape.clone(self)
    def t(self):                return shape.t(self)
    def is_contiguous(self):    return shape.is_contiguous(self)
    def flatten(self, start_dim=0, end_dim=-1): return shape.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return shape.transpose(self, dim0, dim1)
    def permute(self, *dims):   return shape.permute(self, shape_args(_some("permute", dims)))
    def unsqueeze(self, dim):   return shape.unsqueeze(self, dim)
    def squeeze(self, dim=None): return shape.squeeze(self, dim)

    def relu(self):    return activation.relu(self)
    def tanh(self):    return activation.tanh(self)
    def sigmoid(self): return activation.sigmoid(self)
    def softmax(self, dim):     return activation.softmax(self, dim)
    def log_softmax(self, dim): return activation.log_softmax(self, dim)


def _check_requires_grad(tensor, flag, op):
    if flag and tensor.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: only floating point tensors can require gradients, got dtype {tensor.dtype}")
    if not flag and getattr(tensor, "_node", None) is not None:    # (None while __init__ runs)
        raise RuntimeError(f"{op}: you can only change requires_grad flags of leaf variables; use "
                           f"detach() to get a tensor that does not require grad")


def _some(op, args):
    if not args:
        raise TypeError(f"{op}: missing the shape")
    return args


def _comparable(other):
    return isinstance(other, (Tensor, np.ndarray)) or elementwise.is_number(other)


def shape_args(args):
    """reshape(2, 3) and reshape((2, 3)) both mean (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)



# ---- the binding: the one place Tensor gets the methods written above -----------------
for _name, _value in vars(_TensorMethods).items():
    # (__hash__ too: defining __eq__ gave _TensorMethods __hash__ = None; Tensor keeps identity)
    if _name not in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__hash__"):
        setattr(Tensor, _name, _value)
del _name, _value
