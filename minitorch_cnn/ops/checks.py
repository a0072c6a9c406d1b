"""Argument checks shared by the public ops and the layers."""
from ..core.autograd import is_grad_enabled
from ..core.tensor import Tensor


def expect_tensor(value, who, argument="input", optional=False):
    """Raise TypeError unless `value` is a Tensor (or None, when optional); `who` is the op or
    layer as it prints.

    Without it a list or NumPy array fails deep inside with `'list' object has no
    attribute 'ndim'`, or, worse, runs through NumPy and comes back as a result.
    """
    if not isinstance(value, Tensor) and not (optional and value is None):
        raise TypeError(f"{who}: expected {argument} to be a Tensor, got {type(value).__name__}")
    return value


def expect_floating(x, who):
    """Raise TypeError unless x holds floating point numbers (torch has no integer kernel)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{who}: expected a floating point tensor, got dtype {x.dtype} "
                        f"(torch has no {who} kernel for it; convert with .float())")
    return x


def check_inplace(x, op, inplace):
    """inplace=True is computed out of place here; torch refuses it on a leaf that requires
    grad (the leaf's value would be lost), so that call is refused too."""
    if inplace and x.requires_grad and x.is_leaf and is_grad_enabled():
        raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an "
                           f"in-place operation (inplace=True)")


def refuse_out(op, out):
    """torch's out= (write the result into a given tensor) is not built: accepted as None only."""
    if out is not None:
        raise RuntimeError(f"{op}: out= is not supported by minitorch_cnn (only out=None); "
                           f"use the returned tensor (or out.copy_(result))")
