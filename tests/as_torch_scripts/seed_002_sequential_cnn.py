"""The PyTorch snippets of seed tutorial 002 (Pexcera, "Building a Basic CNN from Scratch": a
SimpleCNN of two nn.Sequential stages on 3x32x32 inputs, then one Adam training step on a
simulated batch), verbatim and in the tutorial's order.

The page flattened each snippet onto one line; the line breaks and indentation are restored
here (the only change to the tutorial's lines), and its prose is left out.  No glue was needed.
"""
import torch
import torch.nn as nn

class SimpleCNN(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            # Input: [batch, 3, 32, 32]
            nn.Conv2d(3, 16, kernel_size=3, padding=1), # [batch, 16, 32, 32]
            nn.ReLU(),
            nn.MaxPool2d(2, 2), # [batch, 16, 16, 16]
            nn.Conv2d(16, 32, kernel_size=3, padding=1), # [batch, 32, 16, 16]
            nn.ReLU(),
            nn.MaxPool2d(2, 2) # [batch, 32, 8, 8]
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), # [batch, 2048]
            nn.Linear(32 * 8 * 8, 128),
            nn.ReLU(),
            nn.Dropout(0.5),
            nn.Linear(128, num_classes) # [batch, num_classes]
        )

    def forward(self, x):
        x = self.features(x)
        logits = self.classifier(x)
        return logits

x = torch.randn(4, 3, 32, 32)
model = SimpleCNN(num_classes=10)
out = model(x)
print("Output shape:", out.shape) # [4, 10]

import torch.optim as optim

model = SimpleCNN(num_classes=10)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)

# Simulated batch
inputs = torch.randn(4, 3, 32, 32)
labels = torch.randint(0, 10, (4,))

# Single training step
optimizer.zero_grad()
outputs = model(inputs)
loss = criterion(outputs, labels)
loss.backward()
optimizer.step()

print("Training step loss:", loss.item())
