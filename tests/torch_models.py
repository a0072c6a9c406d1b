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


# ---- issue 23: a small ResNet and a convolutional autoencoder (minitorch_cnn/models/resnet.py,
# autoencoder.py).  Kept out of TORCH_MODELS, whose four classifiers tests/test_models_parity.py trains
# on 28×28 batches with cross-entropy; _torch_helpers.torch_model finds both dictionaries.
class BasicBlock(nn.Module):
    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, num_classes=10, in_channels=1, channels=(16, 32, 64), blocks_per_stage=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        previous = channels[0]
        for i, width in enumerate(channels):
            blocks = [BasicBlock(previous if j == 0 else width, width, stride=2 if i > 0 and j == 0 else 1)
                      for j in range(blocks_per_stage)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            previous = width
        self.num_stages = len(channels)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(previous, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class ConvAutoencoder(nn.Module):
    def __init__(self, num_classes=None, in_channels=1, channels=(16, 32), loss="mse"):
        super().__init__()
        self.loss = loss
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(c1, in_channels, 3, stride=2, padding=1, output_padding=1))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    def reconstruction_loss(self, output, target):
        if self.loss == "bce":
            return F.binary_cross_entropy_with_logits(output, target)
        return F.mse_loss(output, target)


MORE_TORCH_MODELS = {"resnet": ResNet, "autoencoder": ConvAutoencoder}
