"""torch's layout and memory-format values (torch.strided, torch.preserve_format, ...).

Imports nothing, so creation.py, the ops and the Tensor's methods can all take them as defaults.
"""


class _TorchEnum:
    """A torch enum value (torch.strided, torch.preserve_format): printed, compared and hashed by
    its torch name, so torch's own objects compare equal to it."""
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"

    __str__ = __repr__

    def __eq__(self, other):
        return str(other) == str(self)

    def __hash__(self):
        return hash(str(self))


class layout(_TorchEnum):
    """torch.layout: tensors here are dense (strided) only."""


class memory_format(_TorchEnum):
    """torch.memory_format: arrays here keep NumPy's layout; preserve_format and contiguous_format
    are accepted, channels_last refused where it would change a result's strides."""


strided = layout("strided")
preserve_format, contiguous_format, channels_last = (memory_format(name) for name in
                                                     ("preserve_format", "contiguous_format", "channels_last"))
