"""Making tensors: mt.tensor(data) and the zeros / ones / randn / rand factories, with
PyTorch's dtype rules, and the dtype names (mt.float32, ...)."""
import numpy as np

from . import backend
from .tensor import Tensor, as_dtype, shape_args

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int32, int64, uint8, bool_ = np.int8, np.int32, np.int64, np.uint8, np.bool_


def tensor(data, requires_grad=False, dtype=None, device="cpu"):
    """Make a new leaf tensor from data (always a copy, as torch.tensor).

    Dtype as in PyTorch: an array keeps its dtype; Python floats become float32,
    Python ints int64, bools bool.
    """
    if isinstance(data, Tensor):
        data = data.data
    elif hasattr(data, "detach") and hasattr(data, "numpy"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        xp = backend.get_array_module(data)
        array = xp.array(data, dtype=as_dtype(dtype), copy=True)
    else:
        array = np.array(data)
        if dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)   # Python floats default to float32
        elif dtype is None and array.dtype.kind == "i":
            array = array.astype(np.int64)
        elif dtype is not None:
            array = array.astype(as_dtype(dtype))
    array = backend.to_device(array, device)
    if requires_grad and array.dtype.kind not in "fc":
        raise RuntimeError(f"only floating point tensors can require gradients, got dtype {array.dtype}")
    return Tensor(array, requires_grad=requires_grad)


def _factory(name, fill, doc):
    """A torch-style creation function: name(*shape, dtype, requires_grad, device)."""
    def make(*shape_, dtype=np.float32, requires_grad=False, device="cpu"):
        array = fill(shape_args(shape_), as_dtype(dtype))
        return Tensor(backend.to_device(array, device), requires_grad=requires_grad)
    make.__name__, make.__qualname__, make.__doc__ = name, name, doc
    return make


def _rng():
    from .random import get_rng   # the engine's seeded generator (mt.manual_seed)
    return get_rng()


zeros = _factory("zeros", np.zeros, "A new tensor of zeros (float32 unless dtype says otherwise).")
ones = _factory("ones", np.ones, "A new tensor of ones (float32 unless dtype says otherwise).")
randn = _factory("randn", lambda shape, dtype: _rng().standard_normal(shape).astype(dtype),
                 "Standard normal samples from the engine's seeded generator.")
rand = _factory("rand", lambda shape, dtype: _rng().random(shape).astype(dtype),
                "Uniform [0, 1) samples from the engine's seeded generator.")
