"""DeepCNN: a VGG-style stack of conv → batch-norm → max-pool → relu blocks."""
from .. import nn
from ..nn import functional as F


class CNNBlock(nn.Module):
    """conv 3×3 pad 1 → bn → pool (MaxPool 2, or Identity) → relu.

    Pooling before ReLU is exact (relu(maxpool(x)) = maxpool(relu(x)), values and gradients,
    as ReLU is monotone) and runs ReLU on a quarter of the values."""

    def __init__(self, in_channels, out_channels, pool=True):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x):
        return F.relu(self.pool(self.bn(self.conv(x))))


class DeepCNN(nn.Module):
    """features: num_blocks CNNBlocks, channels doubling from initial_channels (the last
    block keeps its resolution); classifier: Flatten → Dropout → Linear(·, 256) → ReLU
    → Dropout → Linear(256, num_classes).  28×28 inputs end at 3×3 with 4 blocks."""

    def __init__(self, num_classes=10, in_channels=1, num_blocks=4, initial_channels=32,
                 input_size=28, dropout=0.5):
        super().__init__()
        blocks, channels, size = [], in_channels, input_size
        for i in range(num_blocks):
            out = initial_channels * 2 ** i
            last = i == num_blocks - 1
            blocks.append(CNNBlock(channels, out, pool=not last))
            channels, size = out, size if last else size // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * size * size, 256), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(256, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
