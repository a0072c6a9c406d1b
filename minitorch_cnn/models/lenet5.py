"""LeNet-5 (LeCun et al., 1998) for 28×28 inputs, with tanh and average pooling."""
from .. import nn
from ..nn import functional as F


class LeNet5(nn.Module):
    """conv1 6@5×5 pad 2 → tanh → avgpool 2 → conv2 16@5×5 → tanh → avgpool 2
    → flatten 400 → fc1 120 → tanh → fc2 84 → tanh → fc3 num_classes."""

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
        x = self.pool1(F.tanh(self.conv1(x)))      # (N, 6, 14, 14)
        x = self.pool2(F.tanh(self.conv2(x)))      # (N, 16, 5, 5)
        x = F.flatten(x)                           # (N, 400)
        x = F.tanh(self.fc1(x))
        x = F.tanh(self.fc2(x))
        return self.fc3(x)
