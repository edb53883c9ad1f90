"""μ_k of the layers a run trains: circle_eigenvalues(..., trainable=) against the eigendecomposition of
that kernel on a dense uniform grid of angles, and the parts adding up (all = readout + hidden)."""

import numpy as np
import pytest

from ntklab.core import MLPSpec, analytic_kernels
from ntklab.core.spherical import circle_eigenvalues, circle_points, sphere_eigenvalues


@pytest.mark.parametrize("trainable", ["readout", "hidden"])
def test_circle_eigenvalues_of_the_trained_layers_match_their_kernel_on_a_grid(x64, trainable):
    """On N uniform angles the kernel matrix is circulant: eigh(K/N) grouped by each eigenvector's
    frequency gives μ_k (the trapezoid rule's error, ~1e-6 μ₀ at N = 512 for the full NTK)."""
    spec, k_max, n = MLPSpec(), 8, 512
    mu = circle_eigenvalues(spec, k_max, trainable=trainable)
    theta = 2 * np.pi * np.arange(n) / n
    values, vectors = np.linalg.eigh(analytic_kernels(spec, circle_points(theta), trainable=trainable).ntk / n)
    frequency = np.argmax(np.abs(np.fft.rfft(vectors, axis=0)), axis=0)
    means = np.array([values[frequency == k].mean() for k in range(k_max + 1)])
    np.testing.assert_allclose(means, mu, atol=1e-5 * mu[0])


def test_the_parts_add_up_to_the_whole(x64):
    """The NTK is a sum over parameters: the readout's part plus the hidden layers' part is the NTK of all
    layers, frequency by frequency (and degree by degree), and the readout's part is the NNGP."""
    spec = MLPSpec(depth=3, activation="erf", w_std=1.3, b_std=0.2)
    for eigenvalues, order in ((circle_eigenvalues, 10), (sphere_eigenvalues, 6)):
        whole = eigenvalues(spec, order)
        readout = eigenvalues(spec, order, trainable="readout")
        hidden = eigenvalues(spec, order, trainable="hidden")
        np.testing.assert_allclose(readout + hidden, whole, rtol=1e-10, atol=1e-13 * whole[0])
        np.testing.assert_allclose(readout, eigenvalues(spec, order, kernel="nngp"), rtol=1e-10,
                                   atol=1e-13 * whole[0])
        assert np.all(readout < whole) and np.all(hidden < whole)
