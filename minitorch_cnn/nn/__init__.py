"""Neural-network building blocks: Module, Parameter, layers, losses, init, functional."""
from . import functional, init
from .layers import (AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, CrossEntropyLoss, Dropout,
                     Flatten, Identity, Linear, LogSoftmax, MaxPool2d, MSELoss, ReLU, Sequential,
                     Sigmoid, Softmax, Tanh)
from .module import Module, Parameter

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "CrossEntropyLoss", "Dropout",
           "Flatten", "Identity", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d", "Module",
           "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Tanh", "functional", "init"]
