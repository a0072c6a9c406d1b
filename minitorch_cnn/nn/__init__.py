"""Neural-network building blocks: Module, Parameter, layers, containers, losses, init,
functional, utils (gradient clipping)."""
from . import functional, init, utils
from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, CrossEntropyLoss,
                     Dropout, Dropout2d, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, MaxPool2d,
                     ModuleDict, ModuleList, MSELoss, NLLLoss, ReLU, Sequential, Sigmoid, Softmax,
                     Tanh)
from .module import Module, Parameter
from .layers import AdaptiveMaxPool2d, AvgPool1d, MaxPool1d

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss",
           "Dropout", "Dropout2d", "Flatten", "Identity", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss",
           "MaxPool2d", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter", "ReLU",
           "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init", "utils"]
__all__ += ["AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d"]

# normalisation over other axes (issue 23, part B)
from .layers_norm import GroupNorm, InstanceNorm1d, InstanceNorm2d, LayerNorm  # noqa: E402
__all__ += ["GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "LayerNorm"]
# unfold/fold and the transposed convolution (issue 23, part A)
from .layers_conv import ConvTranspose2d, Fold, Unfold  # noqa: E402
__all__ += ["ConvTranspose2d", "Fold", "Unfold"]
# more activations and losses (issue 23, part C)
from .layers_extra import (BCELoss, BCEWithLogitsLoss, ELU, GELU, Hardswish, Hardtanh, HuberLoss,  # noqa: E402
                           KLDivLoss, L1Loss, ReLU6, SiLU, SmoothL1Loss, Softplus)
__all__ += ["BCELoss", "BCEWithLogitsLoss", "ELU", "GELU", "Hardswish", "Hardtanh", "HuberLoss", "KLDivLoss",
            "L1Loss", "ReLU6", "SiLU", "SmoothL1Loss", "Softplus"]
# resampling and unpooling (issue 23, part D)
from .layers_resample import (MaxUnpool1d, MaxUnpool2d, Upsample, UpsamplingBilinear2d,  # noqa: E402
                              UpsamplingNearest2d)
__all__ += ["MaxUnpool1d", "MaxUnpool2d", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d"]
