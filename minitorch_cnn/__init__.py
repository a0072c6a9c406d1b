"""minitorch_cnn: a readable, exact and fast autograd engine for convolutional networks."""
from . import backend, cuda
from .autograd import Function, enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .tensor import Tensor
from .creation import (bool_, float16, float32, float64, int8, int32, int64, ones, rand, randn,
                       tensor, uint8, zeros)
from .creation import (arange, from_numpy, full, full_like, ones_like, rand_like, randn_like,
                       zeros_like)
from .ops.elementwise import (abs, add, clamp, clip, div, eq, exp, ge, gt, le, log, lt, masked_fill,  # noqa: A004
                              mul, ne, neg, pow, sqrt, sub, where)
from .ops.join import cat, concat, stack
from .ops.shape import clone, reshape
from . import nn, optim  # noqa: E402  (need Tensor)
from . import models  # noqa: E402
from .summary import summary  # noqa: E402
from .serialization import load, save  # noqa: E402
from .ops.reduce import amax, amin, argmax, argmin, max, mean, min, norm, std, sum, topk, var  # noqa: E402,A004

__version__ = "0.1.0"

__all__ = ["Function", "GradcheckError", "Tensor", "backend", "bool_", "cuda", "enable_grad", "float16", "float32", "float64",
           "gradcheck", "int8", "int32", "int64", "is_grad_enabled", "load", "manual_seed", "models", "nn", "optim", "no_grad", "ones", "rand",
           "randn", "save", "summary", "tensor", "uint8", "zeros"]
__all__ += ["amax", "amin", "argmax", "argmin", "max", "mean", "min", "norm", "std", "sum", "topk", "var"]
__all__ += ["abs", "add", "arange", "cat", "clamp", "clip", "clone", "concat", "div", "eq", "exp", "from_numpy", "full", "full_like", "ge", "gt", "le", "log", "lt", "masked_fill", "mul", "ne", "neg", "ones_like", "pow", "rand_like", "randn_like", "reshape", "sqrt", "stack", "sub", "where", "zeros_like"]
