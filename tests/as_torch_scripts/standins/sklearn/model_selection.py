"""Stand-in for sklearn.model_selection.train_test_split (scikit-learn's ShuffleSplit draw)."""
import math

import numpy as np


def train_test_split(*arrays, test_size=0.25, random_state=None):
    n = len(arrays[0])
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    order = np.random.RandomState(random_state).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return [part for a in arrays for part in (a[train], a[test])]
