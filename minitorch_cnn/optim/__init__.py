"""Optimizers and learning-rate schedules as torch.optim's: the same signatures, update rules
(operation for operation), state and state_dict layout."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
UNBUILT = ("Adamax", "ASGD", "LBFGS", "NAdam", "RAdam", "Rprop", "SparseAdam", "Adafactor", "Muon")


def __getattr__(name):
    if name in UNBUILT:
        raise AttributeError(f"torch.optim.{name} is not built in minitorch_cnn; this script needs real PyTorch "
                             f"(built: {', '.join(__all__[:-1])})")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
