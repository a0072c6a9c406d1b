"""minitorch_cnn.nn.functional (imported as F): every op, by the names PyTorch uses."""
from ..ops.checks import expect_tensor
from ..ops.activation import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..ops.conv import conv2d
from ..ops.dropout import dropout, dropout2d
from ..ops.loss import cross_entropy, mse_loss, nll_loss
from ..ops.matmul import linear
from ..ops.norm import batch_norm
from ..ops.pad import pad
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.pool import (adaptive_max_pool2d, adaptive_max_pool2d_with_indices, avg_pool1d, max_pool1d,
                       max_pool1d_with_indices, max_pool2d_with_indices)
from ..ops.shape import flatten as _flatten


def flatten(x, start_dim=1, end_dim=-1):
    """F.flatten: (N, C, H, W) -> (N, C·H·W) by default (dims start_dim..end_dim merged);
    dx = g reshaped back to x's shape."""
    return _flatten(expect_tensor(x, "flatten"), start_dim, end_dim)


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "conv2d", "cross_entropy", "dropout",
           "dropout2d", "flatten", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss",
           "nll_loss", "relu", "sigmoid", "softmax", "tanh"]
__all__ += ["pad"]
__all__ += ["adaptive_max_pool2d", "adaptive_max_pool2d_with_indices", "avg_pool1d", "max_pool1d",
            "max_pool1d_with_indices", "max_pool2d_with_indices"]
