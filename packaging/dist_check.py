"""``make dist-check``: the built bundle, run as a student would get it. Exits 1 on any failure.

Runs ``ntklab --selftest`` and ``ntklab --screenshot`` from dist/ntklab/ in a stripped environment
(``env -i`` plus QT_QPA_PLATFORM=offscreen: no PATH, no PYTHONPATH, no virtual environment) and
reports the bundle's size (target ≤ 650 MB unpacked, ≤ 220 MB packed) and its start-up time.
"""

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "packaging"))
from archive import archive_path  # noqa: E402

MB = 1e6
TARGET_UNPACKED_MB, TARGET_PACKED_MB = 650, 220


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def run(args: list[str], timeout: int = 600) -> tuple[int, str, float]:
    env = ["env", "-i", "QT_QPA_PLATFORM=offscreen", f"HOME={tempfile.gettempdir()}"]
    started = time.perf_counter()
    proc = subprocess.run(env + args, capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - started


def main() -> int:
    program = ROOT / "dist" / "ntklab" / ("ntklab.exe" if sys.platform == "win32" else "ntklab")
    if not program.exists():
        print(f"error: {program} not found; run make dist first.")
        return 1
    failures = []
    code, out, seconds = run([str(program), "--selftest"])
    print(out.strip())
    print(f"--selftest: exit {code} in {seconds:.1f} s")
    if code != 0:
        failures.append("--selftest failed")

    shot = Path(tempfile.mkdtemp()) / "bundle.png"
    code, out, seconds = run([str(program), "--screenshot", str(shot), "--steps", "200", "--tab", "spectra"])
    shown = re.search(r"Window shown ([0-9.]+) s after the process started", out)
    ok = code == 0 and shot.exists() and shot.stat().st_size > 20_000
    print(f"--screenshot: exit {code} in {seconds:.1f} s, {shot} ({shot.stat().st_size if shot.exists() else 0:,} bytes)")
    if not ok:
        print(out.strip())
        failures.append("--screenshot failed")
    startup = float(shown.group(1)) if shown else float("nan")
    if not shown:
        failures.append("the screenshot run did not report its start-up time")

    code, out, version_s = run([str(program), "--version"])
    unpacked = folder_size(program.parent) / MB
    archive = archive_path()
    packed = archive.stat().st_size / MB if archive.exists() else float("nan")
    print()
    print("| measure | value | target | met |")
    print("|---|---|---|---|")
    print(f"| unpacked size (dist/ntklab) | {unpacked:.0f} MB | ≤ {TARGET_UNPACKED_MB} MB | "
          f"{'yes' if unpacked <= TARGET_UNPACKED_MB else 'NO'} |")
    print(f"| packed size ({archive.name}) | {packed:.0f} MB | ≤ {TARGET_PACKED_MB} MB | "
          f"{'yes' if packed <= TARGET_PACKED_MB else 'NO'} |")
    print(f"| start-up: process start to window shown | {startup:.1f} s | | |")
    print(f"| `ntklab --version` (bootloader + Python start) | {version_s:.2f} s | | |")
    if not unpacked <= TARGET_UNPACKED_MB:
        failures.append(f"unpacked size {unpacked:.0f} MB above {TARGET_UNPACKED_MB} MB")
    if not packed <= TARGET_PACKED_MB:
        failures.append(f"packed size {packed:.0f} MB above {TARGET_PACKED_MB} MB (or no archive)")
    print()
    print("dist-check passed" if not failures else "dist-check FAILED: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
