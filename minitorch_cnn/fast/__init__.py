"""The fast paths: each module replaces core Functions of the same name with a faster
(or more PyTorch-exact) version, registered through minitorch_cnn.backends.fast.replaces.

Each module's docstring names the core Functions it replaces and lists where it departs
from them, each trick with its measured one-line comment (tools/time_tricks.py times them).
The CUDA kernels (kernels/*.cu, launched through minitorch_cnn/cuda/) are reached from here
only.  Switch them all off with mt.backends.fast.enabled = False, MINITORCH_CNN_FAST=0 or
the CLI's --core: every op then runs its core Function.
"""
