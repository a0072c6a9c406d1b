"""The PyTorch snippets of seed tutorial 000 (part 2 of a CNN series: a custom Conv2D layer,
MaxPool2D and AveragePool2D, LeNet5, SimpleCNN, CNNBlock and DeepCNN, then the training setup),
verbatim and in the tutorial's order; the page lost its indentation, restored here.

The snippets are fragments, so this script adds glue, each line marked `# glue:`:
- the imports and names the tutorial's earlier part defined: torch, nn, F, optim, `relu`,
  `tanh`, `flatten` (keeping the batch dimension, as the tutorial's shape comments say) and
  `Flatten`;
- `self.stride`/`self.padding` stored in Conv2D, MaxPool2D and AveragePool2D (the tutorial's
  forward methods read them but its __init__ methods never store them: real PyTorch fails
  there too without these lines);
- one forward pass through LeNet5 (on 32x32 inputs, which its 16 * 6 * 6 features imply), and
  DeepCNN built and its parameters counted but not run: the tutorial gives it no forward
  method, and its blocks do not chain (block 2 is built for 64 input channels, block 1 gives
  32), which real PyTorch reports as a channel mismatch too;
- what the training snippet leaves undefined: `device`, `EPOCHS` (2), MNIST loaders through
  torchvision (into ./data), `train_epoch` and `evaluate`, and a final print of the accuracy.
"""
import torch  # glue: the tutorial's earlier part imported these
import torch.nn as nn  # glue
import torch.nn.functional as F  # glue
import torch.optim as optim  # glue
from torch import relu, tanh  # glue


def flatten(x):  # glue: flatten everything but the batch dimension
    return torch.flatten(x, 1)  # glue


Flatten = nn.Flatten  # glue


class Conv2D(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size,
                 stride=1, padding=0, bias=True):
        super().__init__()
        self.stride, self.padding = stride, padding  # glue: forward reads these
        # Learnable convolution kernels
        # Shape: (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size)
        )
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_channels))
        # Initialize weights using Xavier initialization
        nn.init.xavier_uniform_(self.weight)

    def forward(self, x):
        if self.padding > 0:
            x = F.pad(x, (self.padding,) * 4)
        return F.conv2d(x, self.weight, self.bias, stride=self.stride)


class MaxPool2D(nn.Module):
    """Reduces spatial dimensions by taking the maximum in each window."""
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding  # glue: forward reads it

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AveragePool2D(nn.Module):
    """Reduces spatial dimensions by taking the average in each window."""
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding  # glue: forward reads it

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class LeNet5(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        # Feature extractor
        self.conv1 = Conv2D(in_channels, 6, kernel_size=5, padding=2)
        self.pool1 = AveragePool2D(kernel_size=2, stride=2)
        self.conv2 = Conv2D(6, 16, kernel_size=5)
        self.pool2 = AveragePool2D(kernel_size=2, stride=2)
        # Classifier
        self.fc1 = nn.Linear(16 * 6 * 6, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        x = tanh(self.conv1(x)) # Conv -> Tanh
        x = self.pool1(x) # AvgPool
        x = tanh(self.conv2(x)) # Conv -> Tanh
        x = self.pool2(x) # AvgPool
        x = flatten(x) # Flatten for FC layers
        x = tanh(self.fc1(x))
        x = tanh(self.fc2(x))
        return self.fc3(x)


class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10, in_channels=1):
        super().__init__()
        self.conv1 = Conv2D(in_channels, 32, kernel_size=3, padding=1)
        self.conv2 = Conv2D(32, 64, kernel_size=3, padding=1)
        self.pool = MaxPool2D(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(64 * 7 * 7, 128) # 28x28 input
        self.fc2 = nn.Linear(128, num_classes)
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        x = relu(self.conv1(x)) # 28x28 -> 28x28
        x = self.pool(x) # 28x28 -> 14x14
        x = relu(self.conv2(x)) # 14x14 -> 14x14
        x = self.pool(x) # 14x14 -> 7x7
        x = flatten(x) # 64 * 7 * 7 = 3136
        x = self.dropout(relu(self.fc1(x)))
        return self.fc2(x)


class CNNBlock(nn.Module):
    """Reusable Conv -> BatchNorm -> ReLU -> Pool block."""
    def __init__(self, in_channels, out_channels, kernel_size=3, pool=True):
        super().__init__()
        self.conv = Conv2D(in_channels, out_channels, kernel_size,
                           padding=kernel_size // 2)
        self.bn = nn.BatchNorm2d(out_channels)
        self.pool = MaxPool2D(kernel_size=2, stride=2) if pool else nn.Identity()

    def forward(self, x):
        return self.pool(relu(self.bn(self.conv(x))))


class DeepCNN(nn.Module):
    """VGG-inspired architecture with stacked CNN blocks."""
    def __init__(self, num_classes=10, in_channels=1,
                 num_blocks=4, initial_channels=32):
        super().__init__()
        blocks = []
        channels = initial_channels
        for i in range(num_blocks):
            blocks.append(CNNBlock(
                in_channels if i == 0 else channels, channels,
                pool=(i < num_blocks - 1)
            ))
            if i < num_blocks - 1:
                channels *= 2 # Double channels: 32 -> 64 -> 128
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            Flatten(),
            nn.Dropout(0.5),
            nn.Linear(channels * 3 * 3, 256),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(256, num_classes)
        )


print("LeNet5 output shape:", tuple(LeNet5()(torch.randn(2, 1, 32, 32)).shape))  # glue
deep = DeepCNN()  # glue: built only (its second block expects 64 channels where the first gives 32)
print("DeepCNN parameters:", sum(p.numel() for p in deep.parameters()))  # glue

from torchvision import datasets, transforms  # glue: the data and loops the training snippet uses
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # glue
EPOCHS = 2  # glue
to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])  # glue
train_loader = torch.utils.data.DataLoader(  # glue
    datasets.MNIST("data", train=True, download=True, transform=to_input), batch_size=64, shuffle=True)  # glue
test_loader = torch.utils.data.DataLoader(  # glue
    datasets.MNIST("data", train=False, download=True, transform=to_input), batch_size=1000)  # glue


def train_epoch(model, loader, criterion, optimizer, device):  # glue
    model.train()  # glue
    total_loss, correct, seen = 0.0, 0, 0  # glue
    for images, labels in loader:  # glue
        images, labels = images.to(device), labels.to(device)  # glue
        optimizer.zero_grad()  # glue
        logits = model(images)  # glue
        loss = criterion(logits, labels)  # glue
        loss.backward()  # glue
        optimizer.step()  # glue
        total_loss += loss.item() * len(labels)  # glue
        correct += (logits.argmax(1) == labels).sum().item()  # glue
        seen += len(labels)  # glue
    return total_loss / seen, 100.0 * correct / seen  # glue


def evaluate(model, loader, criterion, device):  # glue
    model.eval()  # glue
    total_loss, correct, seen = 0.0, 0, 0  # glue
    with torch.no_grad():  # glue
        for images, labels in loader:  # glue
            images, labels = images.to(device), labels.to(device)  # glue
            logits = model(images)  # glue
            total_loss += criterion(logits, labels).item() * len(labels)  # glue
            correct += (logits.argmax(1) == labels).sum().item()  # glue
            seen += len(labels)  # glue
    return total_loss / seen, 100.0 * correct / seen  # glue


model = SimpleCNN(num_classes=10, in_channels=1).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
for epoch in range(1, EPOCHS + 1):
    train_loss, train_acc = train_epoch(model, train_loader, criterion, optimizer, device)
    test_loss, test_acc = evaluate(model, test_loader, criterion, device)
    scheduler.step()
print(f"SimpleCNN after {EPOCHS} epochs: train loss {train_loss:.4f}, train {train_acc:.1f}%, "  # glue
      f"test loss {test_loss:.4f}, test {test_acc:.1f}%")  # glue
