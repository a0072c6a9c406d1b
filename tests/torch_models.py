"""The four models defined in PyTorch, with minitorch_cnn's class and attribute names.

Their state_dict keys match minitorch_cnn.models one for one, so weights move both
ways.  The parity tests and the benchmarks compare against these; a reader can
hold each one beside its minitorch_cnn twin.  They live with the tests, not in the
package, because the engine never needs torch: the tests import this module
directly (tests/ is on their path), the benchmarks put tests/ on sys.path first.
Importing this module needs torch.  As in minitorch_cnn.models, the max-pools come before
the ReLUs (exact: the two commute, values and gradients).
"""
import torch
from torch import nn
from torch.nn import functional as F


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
        x = F.relu(self.pool(self.conv1(x)))
        x = F.relu(self.pool(self.conv2(x)))
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
        x = F.relu(self.pool1(self.conv1(x)))
        x = F.relu(self.pool2(self.conv2(x)))
        x = self.dropout(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)


class CNNBlock(nn.Module):
    def __init__(self, in_channels, out_channels, pool=True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x):
        return F.relu(self.pool(self.bn(self.conv(x))))


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
