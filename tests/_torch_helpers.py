"""PyTorch twins of minitorch_cnn's models, and moving weights between the two engines.

The torch classes below have the same class names, attribute names and module
tree as minitorch_cnn.models, so their state_dict keys and repr() lines can be
compared one for one.  Weights move as NumPy arrays:

    copy_weights(torch_model, mt_model)      torch -> minitorch (load_state_dict of torch tensors)
    copy_weights(mt_model, torch_model)      minitorch -> torch (torch.from_numpy of state_dict)
"""
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import minitorch_cnn as mt


@pytest.fixture(scope="module", autouse=True)
def torch_single_thread():
    """Run torch on one thread in these modules (import the fixture into a test module to use it).

    The parity tests compare, they do not time: on a shared 2-core machine torch's idle OpenMP
    workers spin and starve both engines (a DeepCNN trajectory measured 10x slower).  The
    previous setting comes back when the module is done."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# ---- the four models, defined in PyTorch -------------------------------------------------
class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.AvgPool2d(2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = self.pool1(torch.tanh(self.conv1(x)))
        x = self.pool2(torch.tanh(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, dropout=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class DigitCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class CNNBlock(nn.Module):
    def __init__(self, in_channels, out_channels, pool=True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x):
        return self.pool(F.relu(self.bn(self.conv(x))))


class DeepCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(CNNBlock(in_channels, 32), CNNBlock(32, 64), CNNBlock(64, 128),
                                      CNNBlock(128, 256, pool=False))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(256 * 3 * 3, 256), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


TORCH_MODELS = {"lenet5": LeNet5, "simplecnn": SimpleCNN, "digitcnn": DigitCNN, "deepcnn": DeepCNN}


def set_dropout(model, p):
    """Set p of every Dropout layer of a minitorch or torch model (p=0 makes training deterministic)."""
    for m in model.modules():
        if type(m).__name__ == "Dropout":
            m.p = p
    return model


# ---- arrays and weights -------------------------------------------------------------------
def to_np(t):
    """A NumPy copy of a minitorch Tensor, torch tensor or array."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy().copy()
    if isinstance(t, mt.Tensor):
        return np.array(mt.backend.to_numpy(t.data))
    return np.array(t)


def copy_weights(source, target):
    """Copy every parameter and buffer from `source` into `target` (either engine, either way)."""
    if isinstance(source, torch.nn.Module):
        target.load_state_dict(source.state_dict())                  # torch tensors into minitorch
    else:
        target.load_state_dict({k: torch.from_numpy(v) for k, v in source.state_dict().items()})
    return target


def assert_state_close(mt_model, torch_model, rtol, atol, what=""):
    """Every parameter and buffer of the two models agrees (keys, dtypes and values)."""
    mine, theirs = mt_model.state_dict(), torch_model.state_dict()
    assert list(mine) == list(theirs), f"{what}: state_dict keys differ"
    for key, value in theirs.items():
        expected = to_np(value)
        assert mine[key].dtype == expected.dtype, f"{what}: {key} dtype {mine[key].dtype} != {expected.dtype}"
        np.testing.assert_allclose(mine[key], expected, rtol=rtol, atol=atol, err_msg=f"{what}: {key}")
