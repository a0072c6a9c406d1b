"""The PyTorch snippets of seed tutorial 004 (teach.pascalyim.com, "Deep Learning 3 -
Convolutional Networks, Part 1"), verbatim and in the tutorial's order; the page flattened each
snippet onto one line, so its line breaks and indentation are restored here.

Left out: the NumPy-only transpose for RGB arrays, `X = np.transpose(X, (0, 3, 1, 2))`, and the
signature line `nn.Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0)`, which
names no values.  Glue, each line marked `# glue:`:
- `mnist_small.csv` (the tutorial's Kaggle file: a `label` column and 784 pixel columns) is
  written from the 5,000 MNIST digits bundled with minitorch_cnn when it is not in the
  working directory (it is the same with real PyTorch, which then trains on the same data);
- `np`, and `n`/`X` for the reshape fragment (eight blank rows), before it;
- `import torch.nn as nn` for the one-line layer fragments that precede the full script;
- after the device fragments, which train SimpleCNN for one epoch, a print of its accuracy.
The script needs pandas and scikit-learn; tests/as_torch_scripts/standins/ has stand-ins
for the five calls it makes, used when they are not installed.
"""
import os  # glue: the tutorial's mnist_small.csv, from the engine's bundled MNIST digits
import numpy as np  # glue
if not os.path.exists("mnist_small.csv"):  # glue
    from minitorch_cnn.data import BundledDigits  # glue
    digits = [BundledDigits(train=t, normalize=False) for t in (True, False)]  # glue
    rows = np.concatenate([np.column_stack([d.targets, d.data.reshape(len(d), -1)]) for d in digits])  # glue
    header = ",".join(["label"] + [f"pixel{i}" for i in range(784)])  # glue
    np.savetxt("mnist_small.csv", rows, fmt="%d", delimiter=",", header=header, comments="")  # glue
import torch  # glue
import torch.nn as nn  # glue
n = 8  # glue
X = np.zeros((n, 784))  # glue

X = X.reshape(n, 28, 28) # (N, 28, 28)
X_t = torch.tensor(X, dtype=torch.float32).unsqueeze(1) # (N, 1, 28, 28)

nn.MaxPool2d(kernel_size=2, stride=2)

model = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, padding=1), # (B, 16, 28, 28)
    nn.ReLU(),
    nn.MaxPool2d(2), # (B, 16, 14, 14)
    nn.Flatten(), # (B, 16*14*14)
    nn.Linear(16 * 14 * 14, 10),
)

import pandas as pd
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset, DataLoader
from sklearn.model_selection import train_test_split
from sklearn.metrics import accuracy_score, confusion_matrix

df = pd.read_csv("mnist_small.csv")
X = df.drop(columns="label").to_numpy()
y = df["label"].to_numpy()
n = X.shape[0]
X = X.reshape(n, 28, 28) / 255.0 # (N, 28, 28), normalised

X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.2, random_state=42
)

X_train_t = torch.tensor(X_train, dtype=torch.float32).unsqueeze(1)
y_train_t = torch.tensor(y_train, dtype=torch.long)
X_test_t = torch.tensor(X_test, dtype=torch.float32).unsqueeze(1)
y_test_t = torch.tensor(y_test, dtype=torch.long)

train_loader = DataLoader(
    TensorDataset(X_train_t, y_train_t),
    batch_size=64,
    shuffle=True,
)

model = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(16 * 14 * 14, 10),
)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

for epoch in range(10):
    epoch_loss = 0.0
    for Xb, yb in train_loader:
        optimizer.zero_grad()
        logits = model(Xb)
        loss = criterion(logits, yb)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    print(f"epoch {epoch} - loss {epoch_loss / len(train_loader):.4f}")

with torch.no_grad():
    logits = model(X_test_t)
    y_hat = torch.argmax(logits, dim=1).numpy()

print("Accuracy:", accuracy_score(y_test, y_hat))
print(confusion_matrix(y_test, y_hat))

model = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=3, padding=1), # (B, 16, 28, 28)
    nn.ReLU(),
    nn.MaxPool2d(2), # (B, 16, 14, 14)
    nn.Conv2d(16, 32, kernel_size=3, padding=1), # (B, 32, 14, 14)
    nn.ReLU(),
    nn.MaxPool2d(2), # (B, 32, 7, 7)
    nn.Flatten(), # (B, 32*7*7)
    nn.Linear(32 * 7 * 7, 10),
)

nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),

class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x):
        x = self.pool(self.relu(self.conv1(x))) # (B, 16, 14, 14)
        x = self.pool(self.relu(self.conv2(x))) # (B, 32, 7, 7)
        x = torch.flatten(x, start_dim=1) # (B, 32*7*7)
        x = self.fc(x)
        return x

model = SimpleCNN()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

model = model.to(device)

for Xb, yb in train_loader:
    Xb = Xb.to(device)
    yb = yb.to(device)
    optimizer.zero_grad()
    logits = model(Xb)
    loss = criterion(logits, yb)
    loss.backward()
    optimizer.step()

model.eval()
with torch.no_grad():
    logits = model(X_test_t.to(device))
    y_hat = torch.argmax(logits, dim=1)
y_hat = y_hat.detach().cpu().numpy()
print("SimpleCNN accuracy after one epoch on", device, ":", accuracy_score(y_test, y_hat))  # glue
