"""Shared test set-up: headless Qt before any QApplication exists, and an x64 switch for numerics."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import jax  # noqa: E402
import pytest  # noqa: E402

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "nt_reference_public.json")


@pytest.fixture
def x64():
    """Runs a test in float64 (JAX's x64 mode), then restores float32."""
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)
