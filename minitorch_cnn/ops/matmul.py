"""Matrix products: matmul (batched, broadcasting) and linear (x Wᵀ + b).

The API: torch's argument checks, errors and dtype rules, then the MatMul / Linear Function
(core/linear.py, or fast/linear.py's Linear while the fast paths are on).
"""
import numpy as np

from ..backends.fast import choose
from ..core import linear as core_linear
from ..core.tensor import Tensor
from ..fast import linear as _fast_linear  # noqa: F401  (registers the fast Linear)
from .checks import expect_tensor, refuse_out


def matmul(input, other, *, out=None):  # noqa: A002  (torch's parameter names)
    """a (..., n, k) @ b (..., k, m) -> (..., n, m), batch dims broadcast;  da = g @ bᵀ,  db = aᵀ @ g."""
    refuse_out("matmul", out)
    a, b = input, other
    for operand in (a, b):
        if not isinstance(operand, Tensor):
            raise TypeError(f"matmul: expected Tensor operands, got {type(operand).__name__}")
    if a.dtype != b.dtype:    # torch promotes nothing here
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got {a.dtype} and {b.dtype}")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied "
                         f"(inner dimensions {k_a} and {k_b} differ)")
    return choose(core_linear.MatMul).apply(a, b)


def _refuse_out_dtype(op, out_dtype):
    if out_dtype is not None:
        raise RuntimeError(f"{op}: out_dtype= is not supported by minitorch_cnn (only out_dtype=None: "
                           f"the result has the operands' dtype)")


def mm(input, mat2, out_dtype=None, *, out=None):  # noqa: A002  (torch's parameter names)
    """torch.mm: a (n, k) @ b (k, m) -> (n, m), 2-D operands only (no broadcasting)."""
    refuse_out("mm", out)
    _refuse_out_dtype("mm", out_dtype)
    for operand in (input, mat2):
        if isinstance(operand, Tensor) and operand.ndim != 2:
            raise ValueError(f"mm: expected 2-D operands, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input, mat2, out_dtype=None, *, out=None):  # noqa: A002
    """torch.bmm: a (b, n, k) @ b (b, k, m) -> (b, n, m), 3-D operands with the same batch size."""
    refuse_out("bmm", out)
    _refuse_out_dtype("bmm", out_dtype)
    for operand in (input, mat2):
        if isinstance(operand, Tensor) and operand.ndim != 3:
            raise ValueError(f"bmm: expected 3-D operands, got shapes {input.shape} and {mat2.shape}")
    if isinstance(input, Tensor) and isinstance(mat2, Tensor) and input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected the same batch size, got shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def linear(input, weight, bias=None):  # noqa: A002
    """F.linear: x (*, in) @ weight (out, in)ᵀ + bias (out,) -> (*, out);  dx = g W,  dW = gᵀ x,  db = Σ g.
    A 1-D weight (in,) gives x @ weight, shape (*)."""
    x = expect_tensor(input, "linear", "input")
    expect_tensor(weight, "linear", "weight")
    expect_tensor(bias, "linear", "bias", optional=True)
    if weight.ndim == 1 and x.ndim >= 1 and bias is None:   # torch's vector weight: a dot product per row
        return linear(x, weight.unsqueeze(0)).squeeze(-1)
    if weight.ndim != 2:
        raise ValueError(f"linear: expected a 2-D weight (out_features, in_features), got shape {weight.shape}")
    out_f, in_f = weight.shape
    if x.ndim < 1 or x.shape[-1] != in_f:
        raise ValueError(f"linear({in_f}→{out_f}): expected input (*, {in_f}), got {x.shape}")
    # torch adds the bias to the output folded to (rows, out_features) (addmm), or to (out,)
    folded = (int(np.prod(x.shape[:-1])), out_f) if x.ndim > 1 else (out_f,)
    if bias is not None and _broadcast_shape(folded, bias.shape) != folded:
        raise ValueError(f"linear({in_f}→{out_f}): expected bias ({out_f},) (or one that broadcasts to "
                         f"{folded}), got {bias.shape}")
    if x.dtype.kind not in "fiu" and x.numel() and weight.numel():   # torch lets an empty bool product through
        raise TypeError(f"linear({in_f}→{out_f}): not implemented for dtype {x.dtype}")
    if x.dtype != weight.dtype:
        raise TypeError(f"linear({in_f}→{out_f}): input dtype {x.dtype} differs from weight dtype {weight.dtype}")
    if bias is not None and bias.dtype != x.dtype:
        raise TypeError(f"linear({in_f}→{out_f}): input dtype {x.dtype} differs from bias dtype {bias.dtype}")
    # a bias that only broadcasts to the output is torch's addmm rule, carried by the fast Linear
    plain = bias is None or bias.shape == weight.shape[:1]
    return choose(core_linear.Linear, x, weight, bias, plain=plain).apply(x, weight, bias)


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None
