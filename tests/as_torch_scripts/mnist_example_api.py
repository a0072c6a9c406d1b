"""A digit classifier making the API calls of PyTorch's official MNIST example
(pytorch/examples, mnist/main.py), written for this repository (not a copy of it).

The same calls: argparse flags --batch-size, --test-batch-size, --epochs, --lr, --gamma,
--no-accel, --no-cuda, --no-mps, --dry-run, --seed, --log-interval, --save-model; device
selection through torch.accelerator, torch.cuda and torch.backends.mps; torchvision's MNIST
with ToTensor and Normalize; two convolutions, max pooling, two dropouts, torch.flatten,
log_softmax with nll_loss (reduction="sum" in the test pass); Adadelta with StepLR;
argmax(dim=1, keepdim=True) and eq(view_as); torch.save of the state_dict.

Run it with real PyTorch (`python mnist_example_api.py`) or on this engine
(`python -m minitorch_cnn.as_torch mnist_example_api.py`).
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torchvision import datasets, transforms


class DigitNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features1 = nn.Conv2d(1, 32, 3, 1)         # 28x28 -> 26x26
        self.features2 = nn.Conv2d(32, 64, 3, 1)        # 26x26 -> 24x24, pooled to 12x12
        self.drop_features = nn.Dropout(0.25)
        self.drop_hidden = nn.Dropout(0.5)
        self.hidden = nn.Linear(64 * 12 * 12, 128)
        self.scores = nn.Linear(128, 10)

    def forward(self, images):
        h = F.relu(self.features1(images))
        h = F.relu(self.features2(h))
        h = self.drop_features(F.max_pool2d(h, 2))
        h = F.relu(self.hidden(torch.flatten(h, 1)))
        return F.log_softmax(self.scores(self.drop_hidden(h)), dim=1)


def train_one_epoch(args, model, device, loader, optimizer, epoch):
    model.train()
    for step, (images, labels) in enumerate(loader):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        if step % args.log_interval == 0:
            seen = step * len(images)
            print(f"Train Epoch: {epoch} [{seen}/{len(loader.dataset)} "
                  f"({100.0 * step / len(loader):.0f}%)]\tLoss: {loss.item():.6f}")
            if args.dry_run:
                break


def evaluate(model, device, loader):
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            log_probs = model(images)
            total_loss += F.nll_loss(log_probs, labels, reduction="sum").item()
            guesses = log_probs.argmax(dim=1, keepdim=True)
            correct += guesses.eq(labels.view_as(guesses)).sum().item()
    n = len(loader.dataset)
    print(f"\nTest set: Average loss: {total_loss / n:.4f}, "
          f"Accuracy: {correct}/{n} ({100.0 * correct / n:.0f}%)\n")
    return correct / n


def pick_device(args):
    if not args.no_accel and hasattr(torch, "accelerator") and torch.accelerator.is_available():
        return torch.accelerator.current_accelerator()
    if not args.no_cuda and torch.cuda.is_available():
        return torch.device("cuda")
    if not args.no_mps and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def main():
    parser = argparse.ArgumentParser(description="MNIST digits (the official example's API calls)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-batch-size", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=14)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--gamma", type=float, default=0.7)
    parser.add_argument("--no-accel", action="store_true")
    parser.add_argument("--no-cuda", action="store_true")
    parser.add_argument("--no-mps", action="store_true")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=10)
    parser.add_argument("--save-model", action="store_true")
    parser.add_argument("--data", default="../data", help="where MNIST's files are (or go)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = pick_device(args)
    print(f"Using device: {device}")

    loader_options = {"batch_size": args.batch_size}
    test_options = {"batch_size": args.test_batch_size}
    if device.type != "cpu":
        for options in (loader_options, test_options):
            options.update(num_workers=1, persistent_workers=True, pin_memory=True, shuffle=True)

    to_input = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST(args.data, train=True, download=True, transform=to_input)
    test_set = datasets.MNIST(args.data, train=False, transform=to_input)
    train_loader = torch.utils.data.DataLoader(train_set, **loader_options)
    test_loader = torch.utils.data.DataLoader(test_set, **test_options)

    model = DigitNet().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    schedule = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train_one_epoch(args, model, device, train_loader, optimizer, epoch)
        evaluate(model, device, test_loader)
        schedule.step()

    if args.save_model:
        torch.save(model.state_dict(), "mnist_cnn.pt")
        restored = DigitNet()
        restored.load_state_dict(torch.load("mnist_cnn.pt", map_location="cpu", weights_only=True))
        print("Saved and reloaded mnist_cnn.pt")


if __name__ == "__main__":
    main()
