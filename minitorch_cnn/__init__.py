"""minitorch_cnn: a readable, exact and fast autograd engine for convolutional networks."""
from . import backend, backends, cuda
from .backend import device
from . import accelerator  # noqa: E402
# tensor.py first: it imports autograd and the ops, which are built on Tensor, once Tensor exists
from .tensor import Tensor
from .core.autograd import Function  # the engine's Function on raw arrays (torch's: mt.autograd.Function)
from .autograd import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                       set_grad_enabled)
from . import autograd  # noqa: E402
from .gradcheck import GradcheckError, gradcheck
from .generator import Generator, default_generator
from .random import manual_seed
from .creation import (arange, bool_, float16, float32, float64, from_numpy, full, full_like, int8,
                       int32, int64, ones, ones_like, rand, rand_like, randn, randn_like, tensor,
                       uint8, zeros, zeros_like)
from .ops.elementwise import (abs, add, clamp, clip, div, eq, exp, ge, gt, le, log, lt,  # noqa: A004
                              masked_fill, maximum, minimum, mul, ne, neg, pow, sqrt, sub, where)
from .ops.join import cat, concat, stack
from .ops.reduce import (amax, amin, argmax, argmin, max, mean, min, norm, std, sum,  # noqa: A004
                         topk, var)
from .ops.shape import clone, flatten, reshape
from .ops.matmul import bmm, matmul, mm
from .ops.activation import top_level_relu as relu, top_level_sigmoid as sigmoid, top_level_tanh as tanh
from .ops.activation import top_level_log_softmax as log_softmax, top_level_softmax as softmax
from .ops.elementwise import floor_divide, remainder
from .ops.bitwise import (bitwise_and, bitwise_not, bitwise_or, bitwise_xor, logical_and, logical_not,
                          logical_or, logical_xor)
from .ops.reduce import all, any, cumsum  # noqa: A004  (torch.all, torch.any)
from .ops.sort import argsort, sort
from .ops.index import gather, index_select, scatter
from .ops.join import chunk, split
from .creation import (channels_last, contiguous_format, layout, memory_format,  # noqa: E402
                       preserve_format, randint, strided)
from . import nn, optim, utils  # noqa: E402  (need Tensor)
from . import models  # noqa: E402
from .graph import to_dot  # noqa: E402  (names leaves through nn.Module)
from .serialization import load, save  # noqa: E402
from .summary import summary  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    # tensors, autograd, dtypes
    "Function", "GradcheckError", "Tensor", "bool_", "enable_grad", "float16", "float32", "float64",
    "gradcheck", "int8", "int32", "int64", "is_grad_enabled", "manual_seed", "no_grad", "uint8",
    "Generator", "default_generator",
    "accelerator", "autograd", "device", "inference_mode", "is_inference_mode_enabled", "set_grad_enabled",
    # creation
    "arange", "from_numpy", "full", "full_like", "ones", "ones_like", "rand", "rand_like", "randn",
    "randn_like", "tensor", "zeros", "zeros_like",
    # ops
    "abs", "add", "amax", "amin", "argmax", "argmin", "cat", "clamp", "clip", "clone", "concat", "div",
    "eq", "exp", "ge", "gt", "le", "log", "lt", "masked_fill", "max", "maximum", "mean", "min", "minimum", "mul", "ne", "neg",
    "norm", "pow", "reshape", "sqrt", "stack", "std", "sub", "sum", "topk", "var", "where",
    "bmm", "flatten", "log_softmax", "matmul", "mm", "relu", "sigmoid", "softmax", "tanh",
    "all", "any", "argsort", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "chunk", "cumsum",
    "floor_divide", "gather", "index_select", "logical_and", "logical_not", "logical_or", "logical_xor",
    "remainder", "scatter", "sort", "split",
    "channels_last", "contiguous_format", "layout", "memory_format", "preserve_format", "randint", "strided",
    # modules and tools
    "backend", "backends", "cuda", "load", "models", "nn", "optim", "save", "summary", "to_dot",
]
