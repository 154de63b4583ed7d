"""Which MNIST test digits the held-out pictures may use.

A few MNIST test digits look more like another digit than like their own label. They were found
once, with `python -m tests.heldout.vetting` (it needs MNIST's training set, which only serves as
a reference here: no training digit is ever drawn): a test digit is left out when none of its 10
nearest training digits (plain pixel distance) carries its label. That is 55 of 10,000.
"""

from __future__ import annotations

import numpy as np

EXCLUDED_TEST_INDICES: frozenset[int] = frozenset(
    {
        321,
        381,
        464,
        844,
        1014,
        1112,
        1226,
        1247,
        1299,
        1319,
        1465,
        1500,
        1530,
        1681,
        1709,
        1790,
        1984,
        2063,
        2098,
        2109,
        2135,
        2293,
        2339,
        2387,
        2488,
        2607,
        2654,
        2927,
        3333,
        3475,
        3558,
        3559,
        3751,
        3808,
        3838,
        3976,
        4065,
        4176,
        4289,
        4306,
        4497,
        4500,
        4807,
        4966,
        5691,
        5734,
        6035,
        6597,
        6651,
        7121,
        8416,
        9009,
        9634,
        9779,
        9839,
    }
)


def usable_indices(labels: np.ndarray) -> np.ndarray:
    """The indices of MNIST test digits that the generator may draw."""
    keep = np.ones(len(labels), dtype=bool)
    keep[sorted(EXCLUDED_TEST_INDICES)] = False
    return np.flatnonzero(keep)


def find_excluded(neighbours: int = 10, chunk: int = 500) -> list[int]:
    """Recompute EXCLUDED_TEST_INDICES (about 10 s on 2 cores)."""
    from mlcore.data import load_mnist_arrays

    train, test = load_mnist_arrays()
    reference = train.images.reshape(len(train.images), -1).astype(np.float32) / 255
    queries = test.images.reshape(len(test.images), -1).astype(np.float32) / 255
    norms = (reference**2).sum(1)
    excluded = []
    for start in range(0, len(queries), chunk):
        distances = norms[None, :] - 2 * queries[start : start + chunk] @ reference.T
        nearest = np.argpartition(distances, neighbours, axis=1)[:, :neighbours]
        agree = (train.labels[nearest] == test.labels[start : start + chunk, None]).sum(1)
        excluded.extend((start + np.flatnonzero(agree == 0)).tolist())
    return excluded


if __name__ == "__main__":
    found = find_excluded()
    print(len(found), "excluded;", "matches" if set(found) == EXCLUDED_TEST_INDICES else "DIFFERS from", "the list")
