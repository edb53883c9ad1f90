"""Writing files so that nothing is lost: a file or a folder of files appears whole or not at all.

A file is written to a temporary file in the same folder, flushed to disk, then renamed over the
target (``os.replace`` is atomic on POSIX and Windows). A run's folder of outputs is written into a
temporary sibling folder, then swapped with the target in one step where the system allows it
(Linux ``renameat2(RENAME_EXCHANGE)``), else with two renames; a kill at any moment leaves the
previous complete set or the new complete set (between the two renames of the fallback: the
previous set under ``.NAME.old-PID`` beside the target).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

RUN_FILES = ("snapshots.npz", "summary.json", "experiment.toml", "scalars.csv", "fields.csv", "README.txt",
             "data.npz")


class OutputError(ValueError):
    """An output path that cannot be written; the message names the path and the fix."""


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def check_out_dir(out: str | Path, overwrite: bool = False) -> Path:
    """Checks before a run that ``out`` can take its outputs: a new or empty folder, or (with
    ``overwrite``) a folder holding only a previous run's files. Raises :class:`OutputError`."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out}: a file of that name exists; choose a folder name.")
    if out.is_dir():
        entries = [p.name for p in out.iterdir()]
        others = [e for e in entries if e not in RUN_FILES]
        if others:
            raise OutputError(f"--out {out}: the folder holds other files ({', '.join(sorted(others)[:3])}"
                              f"{', …' if len(others) > 3 else ''}); choose a new or empty folder.")
        if entries and not overwrite:
            raise OutputError(f"--out {out}: the folder holds a previous run; add --overwrite to replace it, "
                              f"or choose a new folder.")
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"--out {out}: cannot create its parent folder ({exc.strerror or exc}).") from None
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out {out}: the folder {parent} is not writable; choose another place.")
    return out


def _exchange(a: Path, b: Path) -> bool:
    """Swaps two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where not available."""
    if not hasattr(os, "uname") or os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


class OutputFolder:
    """``with OutputFolder(out) as tmp:`` write the files into ``tmp``; on success they replace ``out``
    in one step. On an error the temporary folder is removed and ``out`` is left as it was."""

    def __init__(self, out: str | Path, overwrite: bool = True):
        self.out = check_out_dir(out, overwrite)
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        parent = self.out.parent
        for stale in parent.glob(f".{self.out.name}.partial-*"):  # left by a killed writer
            pid = stale.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        self.tmp = parent / f".{self.out.name}.partial-{os.getpid()}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        tmp, out = self.tmp, self.out
        if exc_type is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return
        for f in tmp.iterdir():
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(tmp)
        if not out.exists():
            os.rename(tmp, out)
        elif _exchange(tmp, out):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
            os.rename(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        _fsync_dir(out.parent)


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
