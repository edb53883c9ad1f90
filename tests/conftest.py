"""Shared test set-up: headless Qt before any QApplication exists, and an x64 switch for numerics."""

import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import jax  # noqa: E402
import pytest  # noqa: E402

# One persistent compilation cache for the session's processes (pytest-xdist's workers inherit the
# variable from the process that made it): many tests compile the same programs; a third of the suite's
# time was compiling them again. Removed at the end by the process that made it.
_CACHE_OWNER = "NTKLAB_TEST_JAX_CACHE" not in os.environ
if _CACHE_OWNER:
    os.environ["NTKLAB_TEST_JAX_CACHE"] = tempfile.mkdtemp(prefix="ntklab-jax-cache-")
jax.config.update("jax_compilation_cache_dir", os.environ["NTKLAB_TEST_JAX_CACHE"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config, items):
    """A test marked ``covered_by_slow`` is a quick version of a slow test that checks as much or more:
    it runs only when the slow tests do not (``-m "not slow"``), so the whole suite does not pay twice."""
    if not any(item.get_closest_marker("slow") for item in items):
        return
    covered = [item for item in items if item.get_closest_marker("covered_by_slow")]
    if covered:
        config.hook.pytest_deselected(items=covered)
        items[:] = [item for item in items if not item.get_closest_marker("covered_by_slow")]


def pytest_unconfigure(config):
    if _CACHE_OWNER:
        shutil.rmtree(os.environ.pop("NTKLAB_TEST_JAX_CACHE"), ignore_errors=True)


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
