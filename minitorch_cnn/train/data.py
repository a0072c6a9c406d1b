"""Which data a run trains on: --dataset (or auto's choice), --data-dir and the --limit-* prefixes."""
import os

import numpy as np

from . import fingerprint
from .errors import UsageError, _in_flags


def load_data(args):
    """(train_set, test_set, one line saying which data and why)."""
    from ..data import DatasetNotFoundError, Subset, load_dataset, resolve_default_dataset
    from ..data.bundled import DamagedInstallError
    root = args.data_dir or "data"
    try:
        if args.dataset == "auto":
            train, test, reason = resolve_default_dataset(root)
        else:
            train = load_dataset(args.dataset, root, train=True)
            test = load_dataset(args.dataset, root, train=False)
            reason = f"{args.dataset} as asked by --dataset"
            folders = sorted({os.path.dirname(str(f)) for f in getattr(train, "files", [])})
            if folders:
                reason += f", from {', '.join(folders)}"
    except (DatasetNotFoundError, ImportError, ValueError) as exc:
        raise UsageError(f"--dataset {args.dataset}: {_in_flags(str(exc))}") from None
    except DamagedInstallError as exc:
        raise UsageError(str(exc)) from None
    if args.limit_train:
        train = Subset(train, range(min(args.limit_train, len(train))))
    if args.limit_test:
        test = Subset(test, range(min(args.limit_test, len(test))))
    return train, test, reason


def prepare_data(args):
    """Load the data, refuse an empty split, print what was chosen; -> (train, test, data_name, in_channels)."""
    train_set, test_set, reason = load_data(args)
    for name, dataset in (("training", train_set), ("test", test_set)):
        if len(dataset) == 0:
            raise UsageError(f"--dataset {args.dataset}: the {name} split has no images ({reason})")
    x0, _ = train_set[0]
    print(f"data: {reason}")
    print(f"      {len(train_set):,} train / {len(test_set):,} test samples, images {tuple(np.shape(x0))}")
    data_name = args.dataset    # in a few words, for the plots' titles
    if args.dataset == "auto":
        data_name = "MNIST" if reason.startswith("MNIST from") else "bundled digits"
    if getattr(args, "group", None) is None or args.group.rank == 0:    # the writer's (fingerprint.py): saved
        args.data_fingerprint = fingerprint.follow(args, train_set, test_set, data_name)   # and checked on --resume
    return train_set, test_set, data_name, int(np.shape(x0)[0])
