"""SimpleCNN: two 3×3 conv blocks and a dropout-regularised classifier."""
from .. import nn
from ..nn import functional as F


class SimpleCNN(nn.Module):
    """conv1 32@3×3 pad 1 → maxpool 2 → relu → conv2 64@3×3 pad 1 → maxpool 2 → relu
    → fc1 (3136 → 128) → relu → dropout 0.5 → fc2 num_classes.

    Pooling before ReLU is exact (relu(maxpool(x)) = maxpool(relu(x)), values and gradients,
    as ReLU is monotone) and runs ReLU on a quarter of the values."""

    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x):
        x = F.relu(self.pool(self.conv1(x)))       # (N, 32, 14, 14)
        x = F.relu(self.pool(self.conv2(x)))       # (N, 64, 7, 7)
        x = self.dropout(F.relu(self.fc1(F.flatten(x))))
        return self.fc2(x)
