"""The Tensor's methods: torch's API over the ops (the class itself is minitorch_cnn/core/tensor.py).

The one place where the imports point back.  The core Tensor holds data, grad and the graph
node; autograd and every op are built on it and import it.  Its methods call them, so they are
written here, once the ops exist, as the body of `_TensorMethods`, and bound onto the core
class by the loop at the bottom of this file: `minitorch_cnn.Tensor` is one class, the core's.
"""
import numpy as np

from . import backend
from .backend import as_dtype  # noqa: F401  (minitorch_cnn.tensor.as_dtype, as before)
from .core import autograd, hooks
from .core.autograd import is_grad_enabled
from .core.tensor import Tensor
from .ops import activation, elementwise, inplace, matmul, reduce, shape
from .ops import bitwise, convert, join
from .ops import index as index_ops, sort as sort_ops
from .ops import shape as shape_ops     # (for methods whose torch parameter is named `shape`)
from .ops.reduce import _UNSET
from .random import get_rng


class _TensorMethods:
    """Bound onto core.tensor.Tensor below; never instantiated."""
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def size(self, dim=None): return self.shape if dim is None else self.shape[dim]
    def numel(self):          return int(self.array.size)
    def dim(self):            return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(backend.to_numpy(self.array), separator=", ", prefix="tensor(")
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

    @property
    def data(self):
        """torch's .data: a Tensor on the same memory, outside the graph, with a version counter of
        its own (so writes through it go unseen by the checks in core/versions.py, as in torch)."""
        return Tensor(self.array)

    @data.setter
    def data(self, value):
        """t.data = other: t now holds other's array (any shape or dtype, as torch allows)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: expected a Tensor, got {type(value).__name__}")
        if self.requires_grad and value.dtype.kind not in "fc":
            raise RuntimeError(f"Tensor.data: a tensor that requires grad must hold floating point "
                               f"values, got {value.dtype}")
        self.array = value.array

    # ---- autograd ---------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's .grad (gradient defaults to 1 for scalars);
        with `inputs`, only into theirs (mt.autograd.backward)."""
        if create_graph:
            raise NotImplementedError("Tensor.backward(create_graph=True): minitorch_cnn has no double "
                                      "backward; this needs real PyTorch")
        if inputs is not None:
            from . import autograd as public_autograd
            return public_autograd.backward(self, gradient, retain_graph, inputs=inputs)
        grad, retain_graph = gradient, bool(retain_graph)
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        xp = backend.get_array_module(self.array)
        if grad is None and self.array.size != 1:
            raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                               f"this tensor has shape {self.shape}")
        array = xp.ones_like(self.array) if grad is None else grad.array if isinstance(grad, Tensor) else grad
        if hasattr(array, "shape") and backend.device_of(array) != self.device:
            raise RuntimeError(f"backward: grad is on device '{backend.device_of(array)}', "
                               f"but the tensor is on '{self.device}'")
        grad = array if isinstance(grad, Tensor) or grad is None else xp.asarray(grad, dtype=self.dtype)
        if tuple(grad.shape) != self.shape:
            raise RuntimeError(f"backward: grad has shape {tuple(grad.shape)}, "
                               f"expected the tensor's shape {self.shape}")
        if self._node is None:      # a leaf's own hooks see the seed (core/hooks.py runs the rest)
            grad = hooks.run_tensor_hooks(self, grad)
        hooks.defer_retain(self)
        try:
            autograd.backward(self, grad, retain_graph=retain_graph)
        finally:
            hooks.discard_held_gradients()

    def register_hook(self, hook):
        """hook(grad) runs with this tensor's gradient during backward; a Tensor it returns
        replaces the gradient.  Returns a handle with .remove()."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        return hooks.register_tensor_hook(self, _on_arrays(hook), autograd.accumulate)

    retains_grad = property(lambda self: self._retains_grad and self._node is not None)
    device = property(lambda self: backend.device_object(backend.device_of(self.array)))
    is_cuda = property(lambda self: backend.device_of(self.array) == "cuda")
    is_cpu = property(lambda self: backend.device_of(self.array) == "cpu")

    def get_device(self):
        """-1 on the CPU, else the GPU's index (0: the engine runs on cuda:0), as torch's."""
        return -1 if self.is_cpu else 0

    def requires_grad_(self, requires_grad=True):
        _check_requires_grad(self, requires_grad, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def _set_requires_grad(self, flag):
        """x.requires_grad = flag, with torch's two refusals (the core stores the plain flag)."""
        _check_requires_grad(self, flag, "requires_grad")
        self.__dict__["requires_grad"] = bool(flag)

    requires_grad = property(lambda self: self.__dict__.get("requires_grad", False), _set_requires_grad)

    # ---- in-place ops (rules and version counting in ops/inplace.py) -------
    def add_(self, other, *, alpha=1):
        return inplace.in_place(self, "add_", lambda x, y: elementwise.add(x, y, alpha=alpha), other)

    def sub_(self, other, *, alpha=1):
        return inplace.in_place(self, "sub_", lambda x, y: elementwise.sub(x, y, alpha=alpha), other)

    def mul_(self, value): return inplace.in_place(self, "mul_", elementwise.mul, value)

    def div_(self, value, *, rounding_mode=None):
        return inplace.in_place(self, "div_", lambda x, y: elementwise.div(x, y, rounding_mode=rounding_mode),
                                value)
    def fill_(self, value): return inplace.in_place(self, "fill_", inplace.fill, value)
    def zero_(self):        return inplace.in_place(self, "zero_", inplace.fill, 0)

    def normal_(self, mean=0, std=1, *, generator=None):
        if std < 0:
            raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
        return _random_fill_(self, "normal_", generator, lambda rng, shape: rng.normal(mean, std, shape))

    def uniform_(self, from_=0, to=1, *, generator=None):
        if from_ > to:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={from_} > to={to}")
        return _random_fill_(self, "uniform_", generator, lambda rng, shape: rng.uniform(from_, to, shape))
    def copy_(self, src, non_blocking=False):   # (non_blocking: every copy here is synchronous)
        return inplace.in_place(self, "copy_", inplace.copy, src, elementwise=False)

    def clamp_(self, min=None, max=None):   # noqa: A002  (torch's names)
        return inplace.in_place(self, "clamp_", lambda x, lo, hi: x.clamp(lo, hi), min, max)

    def __iadd__(self, other):     return self.add_(other)
    def __isub__(self, other):     return self.sub_(other)
    def __imul__(self, other):     return self.mul_(other)
    def __itruediv__(self, other): return self.div_(other)

    # ---- conversion -------------------------------------------------------
    def numpy(self, *, force=False):
        if force:       # torch's force=True: a host copy, whatever the grad flag and device
            return np.array(backend.to_numpy(self.array))
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad; "
                               "use tensor.detach().numpy() instead")
        if self.device != "cpu":
            raise TypeError(f"can't convert a {self.device} tensor to numpy; "
                            "use tensor.cpu() to copy it to host memory first")
        return self.array

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t), as torch's: the tensor's memory on the CPU (refused, as numpy() is,
        when it requires grad or lives on the GPU)."""
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def tolist(self):
        return backend.to_numpy(self.array).tolist()

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return backend.to_numpy(self.array).reshape(()).item()

    def to(self, *args, **kwargs):
        """Tensor.to(device, dtype, non_blocking=False, copy=False), .to(dtype), .to(other):
        a new tensor when anything changes (a recorded Cast when a gradient flows), else self."""
        device, dtype, _, copy = parse_to_args("Tensor.to", args, kwargs)
        data = self.array
        if device is not None and backend.normalize_device(device) != self.device:
            data = backend.to_device(data, device)
        if dtype is not None and as_dtype(dtype) != data.dtype:
            with np.errstate(invalid="ignore"):     # NaN to int: no warning, as torch
                data = data.astype(as_dtype(dtype))
        if data is self.array:
            return shape.clone(self) if copy else self       # copy=True: a new tensor all the same
        if self.requires_grad and is_grad_enabled():
            return shape.Cast.apply(self, device=backend.device_of(data), dtype=data.dtype)
        return Tensor(data)

    def cpu(self, memory_format=convert.PRESERVE_FORMAT):
        return convert.cast(self, None, memory_format, device="cpu")

    def cuda(self, device=None, non_blocking=False, memory_format=convert.PRESERVE_FORMAT):
        index = getattr(device, "index", device)
        return convert.cast(self, None, memory_format, device="cuda" if index is None else f"cuda:{index}")

    def float(self, memory_format=convert.PRESERVE_FORMAT):  return convert.cast(self, np.float32, memory_format)
    def double(self, memory_format=convert.PRESERVE_FORMAT): return convert.cast(self, np.float64, memory_format)
    def long(self, memory_format=convert.PRESERVE_FORMAT):   return convert.cast(self, np.int64, memory_format)
    def contiguous(self, memory_format=convert.CONTIGUOUS_FORMAT):   # a C-order copy when not C-order
        convert.check_contiguous_format("contiguous", memory_format)
        return shape.contiguous(self)

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

    def add(self, other, *, alpha=1): return elementwise.add(self, other, alpha=alpha)
    def sub(self, other, *, alpha=1): return elementwise.sub(self, other, alpha=alpha)
    def mul(self, value): return elementwise.mul(self, value)
    def div(self, value, *, rounding_mode=None): return elementwise.div(self, value, rounding_mode=rounding_mode)
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
    def where(self, condition, y): return elementwise.where(condition, self, y)
    def masked_fill(self, mask, value): return elementwise.masked_fill(self, mask, value)
    def maximum(self, other): return elementwise.maximum(self, other)
    def minimum(self, other): return elementwise.minimum(self, other)

    def __getitem__(self, index): return shape.getitem(self, index)

    def __setitem__(self, index, value):
        """x[index] = value, in place (recorded like any in-place op when a gradient is)."""
        inplace.set_item(self, index, value)

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __float__(self): return float(self.item())
    def __int__(self):   return int(self.item())

    def exp(self):  return elementwise.exp(self)
    def log(self):  return elementwise.log(self)
    def sqrt(self): return elementwise.sqrt(self)
    def abs(self):  return elementwise.abs(self)

    # Reductions: torch's signatures (dim/keepdim, axis/keepdims accepted too); see ops/reduce.py.
    # (axis= and keepdims= are the NumPy spellings torch's argument parser accepts too; sum and
    # mean tell an omitted dim from dim=None, as torch: x.sum(keepdim=True) is refused there)
    def sum(self, dim=_UNSET, keepdim=False, *, dtype=None, axis=_UNSET, keepdims=_UNSET):
        return reduce.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=_UNSET, keepdim=False, *, dtype=None, axis=_UNSET, keepdims=_UNSET):
        return reduce.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.max(self, _UNSET if dim is None else dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.min(self, _UNSET if dim is None else dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=_UNSET, keepdims=_UNSET):
        return reduce.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def topk(self, k, dim=None, largest=True, sorted=True, *, axis=_UNSET):  # noqa: A002
        return reduce.topk(self, k, dim, largest, sorted, axis=axis)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=1, axis=_UNSET, keepdims=_UNSET):
        return reduce.var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=1, axis=_UNSET, keepdims=_UNSET):
        return reduce.std(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return reduce.norm(self, p, dim, keepdim, dtype=dtype)

    def reshape(self, *shape): return shape_ops.reshape(self, shape_args(_some("reshape", shape)))
    def view(self, *shape_):    return shape.view(self, shape_args(_some("view", shape_)))
    def expand(self, *size):    return shape.expand(self, shape_args(_some("expand", size)))
    def expand_as(self, other): return convert.expand_as(self, other)
    def repeat(self, *repeats): return shape.repeat(self, shape_args(_some("repeat", repeats)))
    def clone(self, *, memory_format=convert.PRESERVE_FORMAT): return shape.clone(self, memory_format=memory_format)
    def t(self):                return shape.t(self)
    def is_contiguous(self, memory_format=convert.CONTIGUOUS_FORMAT):
        convert.check_contiguous_format("is_contiguous", memory_format)
        return shape.is_contiguous(self)
    def flatten(self, start_dim=0, end_dim=-1): return shape.flatten(self, start_dim, end_dim)
    def transpose(self, dim0, dim1): return shape.transpose(self, dim0, dim1)
    def permute(self, *dims):   return shape.permute(self, shape_args(_some("permute", dims)))
    def unsqueeze(self, dim):   return shape.unsqueeze(self, dim)
    def squeeze(self, dim=None): return shape.squeeze(self, dim)

    def relu(self):    return activation.relu(self)
    def tanh(self):    return activation.tanh(self)
    def sigmoid(self): return activation.sigmoid(self)
    def softmax(self, dim, dtype=None):     return activation.top_level_softmax(self, dim, dtype)
    def log_softmax(self, dim, dtype=None): return activation.top_level_log_softmax(self, dim, dtype)

    # ---- issue 21's everyday ops (ops/elementwise, bitwise, reduce, sort, index, join, convert) ----
    def floor_divide(self, value):  return elementwise.floor_divide(self, value)
    def remainder(self, divisor):   return elementwise.remainder(self, divisor)
    def true_divide(self, value):   return elementwise.div(self, value)
    def __floordiv__(self, other):  return elementwise.floor_divide(self, other)
    def __rfloordiv__(self, other): return elementwise.floor_divide(other, self)
    def __mod__(self, other):       return elementwise.remainder(self, other)
    def __rmod__(self, other):      return elementwise.remainder(other, self)
    def floor_divide_(self, value):
        return inplace.in_place(self, "floor_divide_", elementwise.floor_divide, value)
    def remainder_(self, divisor):
        return inplace.in_place(self, "remainder_", elementwise.remainder, divisor)
    def __ifloordiv__(self, other): return self.floor_divide_(other)
    def __imod__(self, other):      return self.remainder_(other)

    def bitwise_not(self):          return bitwise.bitwise_not(self)
    def bitwise_and(self, other):   return bitwise.bitwise_and(self, other)
    def bitwise_or(self, other):    return bitwise.bitwise_or(self, other)
    def bitwise_xor(self, other):   return bitwise.bitwise_xor(self, other)
    def logical_not(self):          return bitwise.logical_not(self)
    def logical_and(self, other):   return bitwise.logical_and(self, other)
    def logical_or(self, other):    return bitwise.logical_or(self, other)
    def logical_xor(self, other):   return bitwise.logical_xor(self, other)
    def __invert__(self):           return bitwise.invert(self)
    def __and__(self, other):       return bitwise.bitwise_and(self, other)
    def __rand__(self, other):      return bitwise.bitwise_and(other, self)
    def __or__(self, other):        return bitwise.bitwise_or(self, other)
    def __ror__(self, other):       return bitwise.bitwise_or(other, self)
    def __xor__(self, other):       return bitwise.bitwise_xor(self, other)
    def __rxor__(self, other):      return bitwise.bitwise_xor(other, self)
    def bitwise_not_(self):         return inplace.in_place(self, "bitwise_not_", bitwise.bitwise_not)
    def bitwise_and_(self, other):  return inplace.in_place(self, "bitwise_and_", bitwise.bitwise_and, other)
    def bitwise_or_(self, other):   return inplace.in_place(self, "bitwise_or_", bitwise.bitwise_or, other)
    def bitwise_xor_(self, other):  return inplace.in_place(self, "bitwise_xor_", bitwise.bitwise_xor, other)
    def logical_not_(self):         return inplace.in_place(self, "logical_not_", bitwise.logical_not)
    def __iand__(self, other):      return self.bitwise_and_(other)
    def __ior__(self, other):       return self.bitwise_or_(other)
    def __ixor__(self, other):      return self.bitwise_xor_(other)

    def all(self, dim=None, keepdim=False): return reduce.all(self, dim, keepdim)
    def any(self, dim=None, keepdim=False): return reduce.any(self, dim, keepdim)
    def cumsum(self, dim, dtype=None):      return reduce.cumsum(self, dim, dtype=dtype)
    def cumsum_(self, dim, dtype=None):
        return inplace.in_place(self, "cumsum_", lambda x: reduce.cumsum(x, dim, dtype=dtype))
    def sort(self, dim=-1, descending=False, *, stable=False):
        return sort_ops.sort(self, dim, descending, stable=stable)
    def argsort(self, dim=-1, descending=False, *, stable=False):
        return sort_ops.argsort(self, dim, descending, stable=stable)

    def gather(self, dim, index, *, sparse_grad=False):
        return index_ops.gather(self, dim, index, sparse_grad=sparse_grad)
    def scatter(self, dim, index, src=None, value=None, *, reduce=None):
        return index_ops.scatter(self, dim, index, src, value, reduce=reduce)
    def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
        return _scatter_(self, dim, index, src, value, reduce)
    def index_select(self, dim, index): return index_ops.index_select(self, dim, index)
    def chunk(self, chunks, dim=0):     return join.chunk(self, chunks, dim)
    def split(self, split_size, dim=0): return join.split(self, split_size, dim)

    def bool(self, memory_format=convert.PRESERVE_FORMAT): return convert.cast(self, convert.BOOL, memory_format)
    def int(self, memory_format=convert.PRESERVE_FORMAT):  return convert.cast(self, convert.INT32, memory_format)
    def half(self, memory_format=convert.PRESERVE_FORMAT): return convert.cast(self, convert.FLOAT16, memory_format)
    def type_as(self, tensor):          return convert.type_as(self, tensor)
    def view_as(self, other):           return convert.view_as(self, other)
    def reshape_as(self, other):        return convert.reshape_as(self, other)

    @convert.documented_as(convert._new_factory_signature)
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=convert.STRIDED,
                  pin_memory=False):
        return convert.new_filled("new_zeros", self, convert._size("new_zeros", size), 0, dtype, device,
                                  requires_grad, layout, pin_memory)

    @convert.documented_as(convert._new_factory_signature)
    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=convert.STRIDED,
                 pin_memory=False):
        return convert.new_filled("new_ones", self, convert._size("new_ones", size), 1, dtype, device,
                                  requires_grad, layout, pin_memory)

    @convert.documented_as(convert._new_factory_signature)
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=convert.STRIDED,
                  pin_memory=False):
        return convert.new_filled("new_empty", self, convert._size("new_empty", size), None, dtype, device,
                                  requires_grad, layout, pin_memory)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
                 layout=convert.STRIDED, pin_memory=False):
        return convert.new_filled("new_full", self, size, fill_value, dtype, device, requires_grad,
                                  layout, pin_memory)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=convert.STRIDED,
                   pin_memory=False):
        return convert.new_tensor(self, data, dtype, device, requires_grad, layout, pin_memory)


def _random_fill_(x, op, generator, sample):
    """x.normal_() / x.uniform_(): x's values <- sample(engine rng, shape), in place (floating only)."""
    if generator is not None:
        raise RuntimeError(f"{op}: generator= is not supported here (the engine's seeded generator is "
                           f"used; mt.manual_seed sets it); this needs real PyTorch")
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor, got {x.dtype}")

    def values(t):
        drawn = np.asarray(sample(get_rng(), t.shape)).astype(t.dtype)
        return Tensor(backend.to_device(drawn, t.device))
    return inplace.in_place(x, op, values, elementwise=False)


def _scatter_(x, dim, index_, src, value, reduce_):
    """x.scatter_(...): scatter written into x (recorded as in-place when a gradient flows)."""
    source = src if src is not None else value
    def write(target, src_or_value):
        return index_ops._scatter("scatter_", target, dim, index_, src_or_value, None, reduce_)
    return inplace.in_place(x, "scatter_", write, source, elementwise=False)


def _check_requires_grad(tensor, flag, op):
    if flag and tensor.dtype.kind not in "fc":
        raise RuntimeError(f"{op}: only floating point tensors can require gradients, got dtype {tensor.dtype}")
    if not flag and getattr(tensor, "_node", None) is not None:    # (None while __init__ runs)
        raise RuntimeError(f"{op}: you can only change requires_grad flags of leaf variables; use "
                           f"detach() to get a tensor that does not require grad")


def _on_arrays(hook):
    """A Tensor hook (grad -> Tensor or None) as core/hooks.py runs it: array -> array, with
    torch's checks on what the hook returned."""
    def array_hook(grad):
        replaced = hook(Tensor(grad))
        if replaced is None:
            return grad
        if not isinstance(replaced, Tensor):
            raise TypeError(f"expected Variable, but hook returned '{type(replaced).__name__}'")
        if replaced.shape != tuple(grad.shape):
            raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has changed the size of value: "
                               f"expected {tuple(grad.shape)}, got {replaced.shape}")
        return replaced.array
    return array_hook


def parse_to_args(op, args, kwargs):
    """torch's forms of .to: (device=None, dtype=None, non_blocking=False, copy=False,
    memory_format=...), (dtype, non_blocking, copy), (tensor, non_blocking, copy).
    -> (device or None, dtype or None, non_blocking, copy)."""
    args, kwargs = list(args), dict(kwargs)
    memory_format = kwargs.pop("memory_format", None)
    if memory_format is not None and str(memory_format) != "torch.preserve_format":
        raise RuntimeError(f"{op}: memory_format={memory_format} is not supported: minitorch_cnn keeps "
                           f"each tensor's own layout (torch.preserve_format)")
    names = ["device", "dtype", "non_blocking", "copy"]
    if args and isinstance(args[0], Tensor):
        other = args.pop(0)
        args, names = [other.device, other.dtype] + args, names
    elif args and args[0] is not None and not _is_device(args[0]):
        args.insert(0, None)        # .to(dtype, non_blocking, copy): no device
    if len(args) > len(names):
        raise TypeError(f"{op}() takes at most {len(names)} positional arguments here, got {len(args)}")
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError(f"{op}() got multiple values for argument '{name}'")
        kwargs[name] = value
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy"}
    if unknown:
        raise TypeError(f"{op}() got an unexpected keyword argument '{sorted(unknown)[0]}'")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    if device is not None:
        backend.normalize_device(device)            # refuses an unknown device by name
    return device, as_dtype(dtype), bool(kwargs.get("non_blocking", False)), bool(kwargs.get("copy", False))


def _is_device(value):
    return isinstance(value, (str, backend.device)) or (isinstance(value, int) and not isinstance(value, bool))


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
