"""DigitCNN: a small digit classifier with exactly 206,922 parameters."""
from .. import nn
from ..nn import functional as F


class DigitCNN(nn.Module):
    """conv1 16@3×3 pad 1 → pool1 → relu → conv2 32@3×3 pad 1 → pool2 → relu
    → fc1 (1568 → 128) → relu → dropout 0.25 → fc2 num_classes.

    Pooling before ReLU is exact (relu(maxpool(x)) = maxpool(relu(x)), values and gradients,
    as ReLU is monotone) and runs ReLU on a quarter of the values."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, kernel_size=3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.pool1(self.conv1(x)))      # (N, 16, 14, 14)
        x = F.relu(self.pool2(self.conv2(x)))      # (N, 32, 7, 7)
        x = self.dropout(F.relu(self.fc1(F.flatten(x))))
        return self.fc2(x)
