"""What a run trains its model to do, and how the CLI measures it.

    Classification   every classic CNN and the ResNet: class logits, F.cross_entropy against
                     the label (the loop's own loss), accuracy
    Reconstruction   the autoencoder (a model with reconstruction_loss and reconstruction, see
                     models/autoencoder.py): output logits of the input's shape, its own loss
                     against the input; no accuracy

task_for(model) picks one.  The rest of the CLI asks it: which batches the loop is given (the
autoencoder's target is its input: with the "bce" loss the input's pixels in [0, 1], undoing
the dataset's Normalize), the loss (criterion; None: the loop's cross-entropy), the evaluation
(evaluate; None: the loop's),
whether the steps count correct predictions, the epoch's and the run's lines, and --plot's
pictures.  A reconstruction run's history keeps every key of a classification run's, with
"train_acc" and "test_acc" None (null in metrics.json and in the checkpoint).
"""
import numpy as np

from .. import Tensor, backend, no_grad
from .progress import Progress


class Classification:
    """Class logits against integer labels: cross-entropy and accuracy."""

    accuracy = True         # the steps count correct predictions; the records hold accuracies
    criterion = None        # the loop's own F.cross_entropy(logits, y)
    evaluate = None         # loop.evaluate: (mean test loss, accuracy)
    loss_name = "cross-entropy"

    def batches(self, batches, loader):
        """The (x, y) batches the loop trains on: the loader's, as they are."""
        return batches

    def train_acc(self, position):
        return position["correct"] / position["seen"]

    def epoch_line(self, record, epochs):
        return (f"epoch {record['epoch']}/{epochs}  loss {record['train_loss']:.4f}  train acc "
                f"{100 * record['train_acc']:.2f}%  test loss {record['test_loss']:.4f}  test acc "
                f"{100 * record['test_acc']:.2f}%  {record['seconds']:.1f} s  {record['images_per_s']:,.0f} img/s")

    def final_line(self, record):
        return f"final test accuracy {100 * record['test_acc']:.2f}%"


class Reconstruction:
    """An autoencoder's output logits against its input: model.reconstruction_loss, no accuracy.
    The target is the input as the model sees it ("mse": any scale, the normalised images), or for
    "bce" (targets must lie in [0, 1]) the input's pixels: the dataset's Normalize undone, clipped."""

    accuracy = False

    def __init__(self, model):
        self.model, self.loss = model, getattr(model, "loss", None)
        self.criterion = model.reconstruction_loss          # (output, target) -> the mean loss
        self.loss_name = {"bce": "BCE-with-logits", "mse": "MSE"}.get(self.loss, "reconstruction") + " loss"

    def target(self, x, dataset):
        """What the model should give back for the input batch x (a Tensor) drawn from `dataset`."""
        if self.loss != "bce":
            return x
        array = x.array
        stats = normalization(dataset)
        if stats is not None:
            mean, std = (backend.to_device(s.astype(array.dtype).reshape(-1, 1, 1), backend.device_of(array))
                         for s in stats)
            array = array * std + mean
        return Tensor(backend.get_array_module(array).clip(array, 0, 1))

    def batches(self, batches, loader):
        """The (x, target) batches the loop trains on: each input with its target (see target)."""
        return ((x, self.target(x, loader.dataset)) for x, _ in batches)

    def evaluate(self, model, loader, label="evaluating"):
        """(mean test loss, None), in eval mode and without a graph: the mean of the batches' mean
        losses weighted by their sizes (per element, as the training loss), read once at the end."""
        model.eval()
        total, seen = 0.0, 0
        progress = Progress(len(loader), label)
        with no_grad():
            for batch, (x, _) in enumerate(loader, 1):
                loss = self.criterion(model(x), self.target(x, loader.dataset))
                total = total + loss.array.astype(np.float64) * x.shape[0]
                seen += x.shape[0]
                progress.update(batch)
        model.train()
        return float(backend.to_numpy(total)) / seen, None

    def train_acc(self, position):
        return None

    def epoch_line(self, record, epochs):
        return (f"epoch {record['epoch']}/{epochs}  loss {record['train_loss']:.4f}  test loss "
                f"{record['test_loss']:.4f}  ({self.loss_name} of the reconstruction)  {record['seconds']:.1f} s  "
                f"{record['images_per_s']:,.0f} img/s")

    def final_line(self, record):
        return f"final test loss {record['test_loss']:.4f} ({self.loss_name} of the reconstruction)"

    def pictures(self, test_set, count=8):
        """(targets, reconstructions) of the first `count` test images, as NumPy (N, C, H, W)
        arrays; the model's training flags are restored."""
        images = [test_set[i][0] for i in range(min(count, len(test_set)))]
        images = np.stack([backend.to_numpy(v.array if isinstance(v, Tensor) else np.asarray(v)) for v in images])
        weight = next(iter(self.model.parameters())).array
        x = Tensor(backend.to_device(images.astype(weight.dtype), backend.device_of(weight)))
        modes = [(m, m.training) for m in self.model.modules()]
        try:
            self.model.eval()
            with no_grad():
                shown = self.model.reconstruction(self.model(x))
        finally:
            for m, mode in modes:
                m.training = mode
        return backend.to_numpy(self.target(x, test_set).array), backend.to_numpy(shown.array)


def normalization(dataset):
    """(mean, std) of the Normalize in `dataset`'s transform (through Subsets), or None."""
    while not hasattr(dataset, "transform") and hasattr(dataset, "dataset"):
        dataset = dataset.dataset
    transform = getattr(dataset, "transform", None)
    from ..data.transforms import Normalize
    found = [t for t in getattr(transform, "transforms", [transform]) if isinstance(t, Normalize)]
    return (found[0].mean, found[0].std) if len(found) == 1 else None


CLASSIFICATION = Classification()


def task_for(model):
    """Reconstruction for a model that has reconstruction_loss (the autoencoder), else Classification;
    `model` is the plain module (not its DistributedDataParallel wrapper)."""
    return Reconstruction(model) if hasattr(model, "reconstruction_loss") else CLASSIFICATION
