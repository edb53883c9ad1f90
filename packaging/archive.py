"""Packs dist/ntklab/ into dist/ntklab-<version>-<platform>.tar.gz (a .zip on Windows); prints the path.

Run after PyInstaller (``make dist`` does both). On Linux the desktop-entry installer is copied to
the bundle's top folder first, beside the ``ntklab`` program.
"""

import platform
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # appended: the folder is named like the `packaging` library
from ntklab import __version__  # noqa: E402

DIST = ROOT / "dist"


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("aarch64", "arm64")
    return f"{system}-{machine}"


def archive_path() -> Path:
    """Where the archive of this version and platform goes."""
    suffix = ".zip" if sys.platform == "win32" else ".tar.gz"
    return DIST / f"ntklab-{__version__}-{platform_tag()}{suffix}"


def main() -> Path:
    bundle = DIST / "ntklab"
    if not (bundle / "_internal").is_dir():
        sys.exit(f"error: {bundle} is not a built bundle; run PyInstaller first (make dist).")
    if sys.platform.startswith("linux"):
        shutil.copy2(ROOT / "packaging" / "install-desktop-entry.sh", bundle / "install-desktop-entry.sh")
    base = str(archive_path()).removesuffix(".zip").removesuffix(".tar.gz")
    archive = shutil.make_archive(base, "zip" if sys.platform == "win32" else "gztar", DIST, "ntklab")
    print(archive)
    return Path(archive)


if __name__ == "__main__":
    main()
