"""A complete training loop: a small CNN learns the 5,000 MNIST digits bundled with minitorch_cnn.

    python examples/train_digits.py        # 3 epochs, a few seconds on a CPU: about 92% test accuracy
    python examples/train_digits.py 1      # the number of epochs

Written as PyTorch code is, name for name.  The CLI, python -m minitorch_cnn.train, runs this
same loop (minitorch_cnn/train/loop.py) with resume, progress and --distributed around it.
"""
import sys

import minitorch_cnn as mt
from minitorch_cnn import nn
from minitorch_cnn.data import BundledDigits, DataLoader
from minitorch_cnn.nn import functional as F

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
mt.manual_seed(0)

train_loader = DataLoader(BundledDigits(train=True), batch_size=64, shuffle=True)    # 4,000 digits
test_loader = DataLoader(BundledDigits(train=False), batch_size=1000)                 # 1,000 others

model = nn.Sequential(                                               # (N, 1, 28, 28) images in
    nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (N, 8, 14, 14)
    nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (N, 16, 7, 7)
    nn.Flatten(), nn.Linear(16 * 7 * 7, 10))                         # (N, 10) class scores out
optimizer = mt.optim.Adam(model.parameters(), lr=1e-3)

for epoch in range(1, epochs + 1):
    model.train()
    total_loss = 0.0
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(y)

    model.eval()
    correct = 0
    with mt.no_grad():
        for x, y in test_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    print(f"epoch {epoch}: train loss {total_loss / len(train_loader.dataset):.4f}, "
          f"test accuracy {correct / len(test_loader.dataset):.2%}")
