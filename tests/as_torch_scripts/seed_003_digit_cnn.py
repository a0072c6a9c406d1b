"""The PyTorch listings of seed tutorial 003 ("Building a CNN from Scratch", chapter 14:
digit_cnn.py, train_mnist.py, visualize_filters.py), verbatim and in the tutorial's order, one
after the other as one script: DigitCNN, three epochs of Adam on torchvision's MNIST (into
./data), then the first layer's filters.

Left out: the tutorial's first listing, max_pooling.py, which is NumPy only.  No glue was
needed.  On this engine, MINITORCH_CNN_AS_TORCH_LIMIT=N (read by the runner's MNIST) keeps
the first N samples of each split to make the three epochs short.
"""
import torch
import torch.nn as nn

class DigitCNN(nn.Module):
    def __init__(self):
        super().__init__()
        # Conv Block 1: detect edges and simple textures
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)

        # Conv Block 2: combine edges into shapes
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)

        # Classification Head
        self.fc1 = nn.Linear(32 * 7 * 7, 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        # x: [batch, 1, 28, 28]
        x = torch.relu(self.conv1(x))   # -> [batch, 16, 28, 28]
        x = self.pool1(x)                # -> [batch, 16, 14, 14]
        x = torch.relu(self.conv2(x))   # -> [batch, 32, 14, 14]
        x = self.pool2(x)                # -> [batch, 32, 7, 7]
        x = x.view(x.size(0), -1)       # -> [batch, 1568]
        x = torch.relu(self.fc1(x))     # -> [batch, 128]
        x = self.dropout(x)              # -> [batch, 128]
        x = self.fc2(x)                  # -> [batch, 10]
        return x

model = DigitCNN()
total = sum(p.numel() for p in model.parameters())
print(f"Total parameters: {total:,}")
# Total parameters: 206,922

import torch.optim as optim
from torchvision import datasets, transforms
from torch.utils.data import DataLoader

# Step 1: Prepare MNIST data
transform = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize((0.1307,), (0.3081,))
])
train_data = datasets.MNIST(
    'data', train=True, download=True, transform=transform
)
test_data = datasets.MNIST(
    'data', train=False, transform=transform
)
train_loader = DataLoader(train_data, batch_size=64, shuffle=True)
test_loader = DataLoader(test_data, batch_size=1000)

# Step 2: Set up model, loss, optimizer
model = DigitCNN()
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

# Step 3: Train for 3 epochs
for epoch in range(3):
    model.train()
    running_loss, correct, total = 0.0, 0, 0

    for images, labels in train_loader:
        # Forward pass
        outputs = model(images)
        loss = criterion(outputs, labels)

        # Backward pass + update
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        # Track metrics
        running_loss += loss.item()
        _, predicted = outputs.max(1)
        correct += predicted.eq(labels).sum().item()
        total += labels.size(0)

    # Evaluate on test set
    model.eval()
    test_correct, test_total = 0, 0
    with torch.no_grad():
        for images, labels in test_loader:
            outputs = model(images)
            _, predicted = outputs.max(1)
            test_correct += predicted.eq(labels).sum().item()
            test_total += labels.size(0)

    train_acc = 100.0 * correct / total
    test_acc = 100.0 * test_correct / test_total
    avg_loss = running_loss / len(train_loader)
    print(f"Epoch {epoch+1}: Loss={avg_loss:.4f}  "
          f"Train={train_acc:.1f}%  Test={test_acc:.1f}%")

# Epoch 1: Loss=0.1842  Train=94.3%  Test=98.2%
# Epoch 2: Loss=0.0571  Train=98.2%  Test=98.8%
# Epoch 3: Loss=0.0392  Train=98.7%  Test=99.0%

# After training, extract what conv1 learned
filters = model.conv1.weight.data   # shape: [16, 1, 3, 3]
print(f"Layer 1: {filters.shape[0]} learned filters")

# Filter 0: resembles a vertical edge detector
print("\nFilter 0 (vertical edges):")
print(filters[0, 0].numpy().round(2))
# [[-0.18  0.02  0.31]
#  [-0.27  0.05  0.34]
#  [-0.15  0.01  0.28]]

# Filter 5: resembles a horizontal edge detector
print("\nFilter 5 (horizontal edges):")
print(filters[5, 0].numpy().round(2))
# [[ 0.22  0.25  0.19]
#  [ 0.01 -0.03  0.02]
#  [-0.20 -0.28 -0.17]]

# Compare with the Sobel kernel from Chapter 13!
print("\nSobel vertical edge kernel:")
print("[[-1, 0, 1],")
print(" [-2, 0, 2],")
print(" [-1, 0, 1]]")

# The CNN discovered edge detectors on its own!
# No one told it about Sobel — it learned from data.
