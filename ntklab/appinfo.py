"""What the running app is made of: its resources folder, library versions and licenses, JAX devices.

One resolver for ``resources/``: inside a PyInstaller bundle it lies in the bundle's data folder
(``sys._MEIPASS``), in an installed wheel inside the package, in a source checkout beside it. No Qt here: the About
dialog and ``ntklab --selftest`` both use it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ntklab import __version__


def resources_dir() -> Path:
    """The ``resources/`` folder: from the bundle, from an installed wheel (package data
    ``ntklab/resources``, mapped from the top-level folder by pyproject.toml), or from the checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    here = Path(__file__).resolve().parent
    installed = here / "resources"
    return installed if installed.is_dir() else here.parent / "resources"


def resource(name: str) -> Path:
    """The path of ``resources/<name>``; a missing file raises FileNotFoundError naming the folder."""
    path = resources_dir() / name
    if not path.exists():
        raise FileNotFoundError(
            f"{name}: not found in {resources_dir()}; run NTK Lab from its source checkout "
            f"(pip install -e .) or from the bundle, where resources/ travels with it."
        )
    return path


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    license: str
    license_files: tuple[str, ...]  # paths inside the distribution's metadata, where it ships them


def _requirement_name(line: str) -> str | None:
    """The distribution a requirement names, or None for an extra's requirement."""
    if re.search(r"\bextra\s*==", line):
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
    return match.group(1) if match else None


def _license(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta.get("License-Expression")
    if expression:
        return expression
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    classifiers = [c for c in classifiers if c != "OSI Approved"]
    if classifiers:
        return ", ".join(classifiers)
    text = (meta.get("License") or "").strip()
    first = text.splitlines()[0] if text else ""
    return first[:60] or "see the package's license file"


def libraries(root: str = "ntklab") -> list[Library]:
    """``root`` and every distribution it needs at run time (extras left out), sorted by name."""
    seen: dict[str, Library] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        files = tuple(str(f) for f in dist.files or ()
                      if re.search(r"(LICEN[CS]E|COPYING|NOTICE)", f.name, re.IGNORECASE) or "licenses/" in str(f))
        seen[key] = Library(dist.metadata["Name"], dist.version, _license(dist), files)
        todo.extend(n for n in map(_requirement_name, dist.requires or ()) if n)
    return sorted(seen.values(), key=lambda lib: lib.name.lower())


def jax_summary() -> tuple[str, str]:
    """(backend, devices) of the JAX this process uses, e.g. ("cpu", "TFRT_CPU_0")."""
    import jax

    return jax.default_backend(), ", ".join(str(d) for d in jax.devices())


def versions_line() -> str:
    """One line: NTK Lab, Python, platform and the key libraries' versions."""
    names = ["jax", "jaxlib", "numpy", "optax", "PySide6-Essentials", "pyqtgraph"]
    parts = [f"NTK Lab {__version__}", f"Python {platform.python_version()}", platform.platform(terse=True)]
    for name in names:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} (metadata missing)")
    return ", ".join(parts)


_IMPORTED = time.perf_counter()


def seconds_since_process_start() -> float:
    """Seconds since this process started (Linux: from /proc, so interpreter start-up counts too;
    elsewhere: since this module was imported)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, starttime, in clock ticks
        return float(Path("/proc/uptime").read_text().split()[0]) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED


def frozen() -> bool:
    """True inside the PyInstaller bundle."""
    return bool(getattr(sys, "frozen", False))
