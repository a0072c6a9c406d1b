"""The parts of torchvision this engine provides: MNIST and FashionMNIST, and the transforms an
MNIST tutorial uses.  Everything else in torchvision (models, io, ops, other datasets) raises the
error saying the script needs real PyTorch/torchvision for it (see __init__.py)."""
from types import SimpleNamespace

from ..data import torchvision_datasets as _datasets
from ..data import transforms as _transforms

torchvision = SimpleNamespace()       # its submodules datasets and transforms come from MODULES

datasets = SimpleNamespace(MNIST=_datasets.TorchvisionMNIST, FashionMNIST=_datasets.TorchvisionFashionMNIST)

transforms = SimpleNamespace(
    ToTensor=_transforms.ToTensor, PILToTensor=_transforms.PILToTensor, Normalize=_transforms.Normalize,
    Compose=_transforms.Compose, Lambda=_transforms.Lambda,
)
