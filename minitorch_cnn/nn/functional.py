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

# normalisation over other axes (issue 23, part B)
from ..ops.norm_axes import group_norm, instance_norm, layer_norm  # noqa: E402
__all__ += ["group_norm", "instance_norm", "layer_norm"]

# unfold/fold and the transposed convolution (issue 23, part A)
from ..ops.conv_transpose import conv_transpose2d  # noqa: E402
from ..ops.fold import fold, unfold  # noqa: E402
__all__ += ["conv_transpose2d", "fold", "unfold"]
# more activations and losses (issue 23, part C)
from ..ops.activation_extra import elu, gelu, hardswish, hardtanh, relu6, silu, softplus  # noqa: E402
from ..ops.loss_extra import (binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss,  # noqa: E402
                              kl_div, l1_loss, smooth_l1_loss)
__all__ += ["elu", "gelu", "hardswish", "hardtanh", "relu6", "silu", "softplus", "binary_cross_entropy",
            "binary_cross_entropy_with_logits", "huber_loss", "kl_div", "l1_loss", "smooth_l1_loss"]
# resampling and unpooling (issue 23, part D)
from ..ops.resample import interpolate, upsample, upsample_bilinear, upsample_nearest  # noqa: E402
from ..ops.unpool import max_unpool1d, max_unpool2d  # noqa: E402
__all__ += ["interpolate", "max_unpool1d", "max_unpool2d", "upsample", "upsample_bilinear", "upsample_nearest"]
