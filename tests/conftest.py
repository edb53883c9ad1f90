"""Shared test set-up: headless Qt before any QApplication exists, and an x64 switch for numerics."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import jax  # noqa: E402
import pytest  # noqa: E402

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# shared/ lies beside the checkout (CI, developers) or inside it (the device machine's copy)
_CANDIDATES = [os.path.join(_ROOT, *up, "shared", "reference", "nt_reference_public.json") for up in (("..",), ())]
REFERENCE = next((p for p in _CANDIDATES if os.path.exists(p)), _CANDIDATES[0])


@pytest.fixture
def x64():
    """Runs a test in float64 (JAX's x64 mode), then restores float32."""
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)
