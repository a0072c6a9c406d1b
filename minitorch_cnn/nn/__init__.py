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
