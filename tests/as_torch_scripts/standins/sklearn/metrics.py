"""Stand-ins for sklearn.metrics.accuracy_score and confusion_matrix."""
import numpy as np


def accuracy_score(y_true, y_pred):
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def confusion_matrix(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = np.union1d(y_true, y_pred)
    counts = np.zeros((labels.size, labels.size), dtype=np.int64)
    np.add.at(counts, (np.searchsorted(labels, y_true), np.searchsorted(labels, y_pred)), 1)
    return counts
