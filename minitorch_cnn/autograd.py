"""minitorch_cnn.autograd, as torch.autograd: the engine's autograd under its public name.

The code is minitorch_cnn/core/autograd.py (Function, the graph, backward), with the
in-place version counters in core/versions.py and the hooks and graph checks in
core/hooks.py.
"""
from .core.autograd import (Context, Function, accumulate, backward, enable_grad,  # noqa: F401
                            is_grad_enabled, no_grad, post_order, topological_order)
from .core.hooks import register_post_backward_hook  # noqa: F401
from .core.versions import VersionCounter  # noqa: F401
