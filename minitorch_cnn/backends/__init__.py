"""Switches between the engine's layers, named after torch.backends.

`minitorch_cnn.backends.fast` turns the fast paths (minitorch_cnn/fast/) on and off, as
`torch.backends.cudnn` does for cuDNN: with it off every op runs its plain core Function
(minitorch_cnn/core/).
"""
from . import fast, mps

__all__ = ["fast", "mps"]
