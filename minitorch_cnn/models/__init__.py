"""The classic CNNs, with attribute names matching their PyTorch definitions.

Seeds: after mt.manual_seed(s), a model draws its initial weights from the engine's generator
layer by layer, in the order its __init__ creates the layers (also its state_dict's order).
The order of forward plays no part: pooling before ReLU (SimpleCNN, DigitCNN, DeepCNN) left
every seed's weights as they were.
"""
from .deepcnn import CNNBlock, DeepCNN
from .digitcnn import DigitCNN
from .lenet5 import LeNet5
from .simplecnn import SimpleCNN

MODELS = {"lenet5": LeNet5, "simplecnn": SimpleCNN, "digitcnn": DigitCNN, "deepcnn": DeepCNN}


def get_model(name, **kwargs):
    """Build a model by its CLI name (lenet5, simplecnn, digitcnn, deepcnn)."""
    try:
        cls = MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}") from None
    return cls(**kwargs)


__all__ = ["CNNBlock", "DeepCNN", "DigitCNN", "LeNet5", "MODELS", "SimpleCNN", "get_model"]
