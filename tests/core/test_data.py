import numpy as np
import pytest

from ntklab.core import PRESETS, make_dataset


@pytest.mark.parametrize("preset", list(PRESETS))
def test_dataset_shapes_interval_and_noise(preset):
    d = make_dataset(preset, 20, 30, 0.1, 3, -1.5, 2.5)
    assert d.x_train.shape == (20, 1) and d.y_train.shape == (20,)
    assert d.x_test.shape == (30, 1) and d.x_grid.shape == (200, 1)
    assert d.x_train.min() >= -1.5 and d.x_train.max() <= 2.5
    clean = PRESETS[preset](d.x_train[:, 0].astype(float))
    residual = d.y_train - clean
    assert 0.03 < residual.std() < 0.2  # noise of std 0.1 was added to the training targets
    np.testing.assert_allclose(d.y_test, PRESETS[preset](d.x_test[:, 0].astype(float)), rtol=1e-6, atol=1e-6)


def test_same_seed_same_data():
    a, b = make_dataset("sin", 5, 5, 0.2, 1, -2, 2), make_dataset("sin", 5, 5, 0.2, 1, -2, 2)
    np.testing.assert_array_equal(a.y_train, b.y_train)
