"""App-level pieces: the resources resolver, --selftest, the About dialog, the desktop entry."""

import configparser
import subprocess
import sys

import pytest

from ntklab import __version__, appinfo, selftest


def test_resources_from_source_and_from_a_bundle(tmp_path, monkeypatch):
    assert appinfo.resource("sample_experiment.toml").is_file()
    assert appinfo.resource("ntklab.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "ntklab.png").write_bytes(b"x")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)  # what PyInstaller's bootloader sets
    assert appinfo.resource("ntklab.png") == tmp_path / "resources" / "ntklab.png"
    with pytest.raises(FileNotFoundError, match="sample_experiment.toml: not found in"):
        appinfo.resource("sample_experiment.toml")


@pytest.mark.slow
def test_a_plain_installed_wheel_carries_its_resources(tmp_path):
    """`pip install .` (not editable) ships resources/ as package data: --selftest passes from it."""
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    wheels, site = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", root, "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheels)], check=True, capture_output=True, timeout=300)
    wheel = next(wheels.glob("ntklab-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(site), "QT_QPA_PLATFORM": "offscreen"}
    where = subprocess.run([sys.executable, "-c", "import ntklab, ntklab.appinfo as a; print(ntklab.__file__); "
                            "print(a.resource('data/digits.npz'))"], capture_output=True, text=True, cwd=tmp_path,
                           env=env, timeout=120)
    assert where.returncode == 0, where.stderr
    assert str(site) in where.stdout.splitlines()[0] and str(site) in where.stdout.splitlines()[1]
    proc = subprocess.run([sys.executable, "-m", "ntklab", "--selftest"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert str(site) in proc.stdout  # "resources in <site>/ntklab/resources"


def test_selftest_passes_and_prints_versions():
    proc = subprocess.run([sys.executable, "-m", "ntklab", "--selftest"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"NTK Lab {__version__}" in proc.stdout and "JAX backend cpu" in proc.stdout
    assert proc.stdout.count("[ok]") == 3 and "selftest passed" in proc.stdout


def test_selftest_fails_when_the_kernels_are_wrong(monkeypatch, capsys):
    import ntklab.core

    real = ntklab.core.analytic_kernels

    def off_by_a_little(*args, **kwargs):
        k = real(*args, **kwargs)
        return type(k)(nngp=k.nngp * 1.001, ntk=k.ntk, cov1=k.cov1, cov2=k.cov2, channels=k.channels)

    monkeypatch.setattr(ntklab.core, "analytic_kernels", off_by_a_little)
    assert selftest.main() == 1
    out = capsys.readouterr().out
    assert "[FAIL] kernels" in out and "selftest FAILED" in out


def test_relu_closed_form_matches_the_reference_formula_at_a_point():
    """Σ₂ and Θ₂ of one input with itself: θ = 0, so Σ₂ = w²Σ₁/2 + b² and Θ₂ = Σ₂ + w²Σ₁/2."""
    import numpy as np

    x = np.array([[0.6, -0.8]])
    sigma1 = 1.5**2 * 1.0 / 2 + 0.2**2
    nngp, ntk = selftest.relu_kernels_closed_form(x, 1.5, 0.2)
    assert nngp[0, 0] == pytest.approx(1.5**2 * sigma1 / 2 + 0.2**2)
    assert ntk[0, 0] == pytest.approx(nngp[0, 0] + 1.5**2 * sigma1 / 2)


def test_libraries_and_licenses():
    libs = {lib.name.lower().replace("_", "-"): lib for lib in appinfo.libraries()}
    for name in ("ntklab", "jax", "jaxlib", "numpy", "pyside6-essentials", "pyqtgraph", "optax"):
        assert name in libs, sorted(libs)
        assert libs[name].license and libs[name].version
    assert "pytest" not in libs  # a test extra, not shipped
    assert "MIT" in libs["ntklab"].license and "LGPL" in libs["pyside6-essentials"].license


def test_about_dialog(qtbot):
    from ntklab.ui.about import AboutDialog

    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert f"NTK Lab {__version__}" in text and "JAX backend: cpu" in text
    assert "jaxlib" in text and "Apache-2.0" in text and "LGPL" in text


def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(appinfo.resource("ntklab.desktop"))
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Exec"] == "ntklab" and section["Icon"] == "ntklab"
    assert "Education" in section["Categories"]
