"""Tensor: an array (NumPy or CuPy), its gradient, and the op that made it.

This is the whole data structure autograd needs.  Its methods that run ops (x + y,
x @ w, x.sum(), x.backward(), ...) are bound onto this class in one place,
minitorch_cnn/tensor.py, because the ops are built on Tensor and import it.
"""
import numpy as np

from .. import backend
from .versions import VersionCounter


class Tensor:
    """A node of the computation graph.

    array          the raw array (numpy.ndarray on 'cpu', cupy.ndarray on 'cuda')
    grad           a Tensor shaped like array, filled in by backward(), or None
    requires_grad  whether ops on this tensor are recorded for backward()
    _node          the Context of the op that made it, None for a leaf (core/autograd.py)
    """
    __hash__ = object.__hash__  # comparisons are elementwise, identity is the hash

    def __init__(self, data, requires_grad=False):
        if isinstance(data, Tensor):
            data = data.array
        elif isinstance(data, np.generic) or not hasattr(data, "shape"):
            data = np.asarray(data)
        self.array = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None
        self._retains_grad = False
        self._version_counter = VersionCounter()   # bumped by every in-place write

    shape = property(lambda self: tuple(self.array.shape))
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    device = property(lambda self: backend.device_of(self.array))
    is_leaf = property(lambda self: self._node is None)
    grad_fn = property(lambda self: None if self._node is None else self._node.function)
    _version = property(lambda self: self._version_counter.value)

    def detach(self):
        """The same data, cut from the graph (and the same version counter: an in-place write
        to either is seen by both)."""
        out = Tensor(self.array)
        out._version_counter = self._version_counter
        return out

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor too (leaves always keep theirs)."""
        self._retains_grad = True
        return self
