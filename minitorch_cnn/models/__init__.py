"""The classic CNNs, a small ResNet and a convolutional autoencoder, with attribute names
matching their PyTorch definitions.

Seeds: after mt.manual_seed(s), a model draws its initial weights from the engine's generator
layer by layer, in the order its __init__ creates the layers (also its state_dict's order).
The order of forward plays no part: pooling before ReLU (SimpleCNN, DigitCNN, DeepCNN) left
every seed's weights as they were.
"""
from .autoencoder import ConvAutoencoder
from .deepcnn import CNNBlock, DeepCNN
from .digitcnn import DigitCNN
from .lenet5 import LeNet5
from .resnet import BasicBlock, ResNet
from .simplecnn import SimpleCNN

MODELS = {"lenet5": LeNet5, "simplecnn": SimpleCNN, "digitcnn": DigitCNN, "deepcnn": DeepCNN,
          "resnet": ResNet, "autoencoder": ConvAutoencoder}


def get_model(name, **kwargs):
    """Build a model by its CLI name (lenet5, simplecnn, digitcnn, deepcnn, resnet,
    autoencoder)."""
    try:
        cls = MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown model {name!r}: choose one of {', '.join(MODELS)}") from None
    return cls(**kwargs)


__all__ = ["BasicBlock", "CNNBlock", "ConvAutoencoder", "DeepCNN", "DigitCNN", "LeNet5", "MODELS", "ResNet",
           "SimpleCNN", "get_model"]
