"""A small ResNet (He et al., 2015) for 28×28 and 32×32 inputs, named as torchvision's.

The residual block adds its input back to what its convolutions made of it:
out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).  x fans out to two branches, so in
the backward pass x's gradient is the sum of the two branches' gradients (docs/15_residual.md).
"""
from .. import nn
from ..nn import functional as F


class BasicBlock(nn.Module):
    """conv1 3×3 (stride) → bn1 → relu → conv2 3×3 → bn2, plus the shortcut, then relu.

    shortcut: the identity where the shape is kept; a 1×1 convolution with the block's stride
    followed by batch norm (the projection) where the stride or the channel count changes.
    The convolutions have no bias: each feeds a batch norm, which subtracts it again."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))      # x used twice: its gradients add


class ResNet(nn.Module):
    """conv1 3×3 (channels[0]) → bn1 → relu → layer1 … layerK → avgpool (1×1) → flatten → fc.

    layer i holds blocks_per_stage BasicBlocks with channels[i] channels; every layer after
    the first starts with stride 2 and a projection shortcut.  The defaults, channels
    (16, 32, 64) and one block per stage, take 28×28 to 7×7 (32×32 to 8×8) before the
    pooling, with 78 k parameters."""

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
        return self.fc(F.flatten(self.avgpool(x)))
