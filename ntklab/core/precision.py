"""Full-precision matrix products for kernels, the empirical NTK and predictions.

On recent NVIDIA GPUs JAX's default precision for float32 matrix products is TF32 (~1e-3
relative), far below what kernel spectra and solves need; ``Precision.HIGHEST`` asks for full
float32 (CPUs compute in full precision either way). tests/core/test_precision.py checks the jaxprs.
"""

from __future__ import annotations

import functools

import jax


def full_precision(fn):
    """``fn`` with every matrix product it traces or runs at ``Precision.HIGHEST``."""

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        with jax.default_matmul_precision("highest"):
            return fn(*args, **kwargs)

    return wrapped
