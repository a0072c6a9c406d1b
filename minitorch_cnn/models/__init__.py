"""The classic CNNs, with attribute names matching their PyTorch definitions."""
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
