"""Stand-in for pandas.read_csv on a numeric CSV with a header row (see README.md)."""
import numpy as np


class Series:
    def __init__(self, values):
        self._values = values

    def to_numpy(self):
        return self._values


class DataFrame:
    def __init__(self, columns, values):
        self.columns, self._values = list(columns), values

    def __getitem__(self, column):
        return Series(self._values[:, self.columns.index(column)])

    def drop(self, columns):
        names = [columns] if isinstance(columns, str) else list(columns)
        keep = [i for i, c in enumerate(self.columns) if c not in names]
        return DataFrame([self.columns[i] for i in keep], self._values[:, keep])

    def to_numpy(self):
        return self._values


def read_csv(path):
    with open(path) as f:
        header = f.readline().strip().split(",")
    values = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    return DataFrame(header, values)
