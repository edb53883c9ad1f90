"""The run's data set from its ``[data]`` settings."""

from __future__ import annotations

from ntklab.core.data import Dataset, make_dataset


def build_dataset(data, dtype) -> Dataset:
    """The :class:`Dataset` described by a ``DataSpec``, in ``dtype``."""
    return make_dataset(data.preset, data.n_train, data.n_test, data.noise, data.seed, data.x_min, data.x_max,
                        dtype=dtype)
