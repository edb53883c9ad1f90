"""Command line: ``ntklab`` (the window), ``ntklab run CONFIG --out DIR``, ``ntklab --screenshot FILE``.

Exit codes of ``ntklab run``: 0 done; 2 a bad experiment file or output folder (one line on stderr);
3 the network diverged (the snapshots up to it are written); 4 the run finished but its results are
not finite; 130 / 143 stopped by Ctrl+C / SIGTERM (the snapshots so far are written).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

# One OpenBLAS thread, set before NumPy loads: after each call OpenBLAS's threads spin-wait and
# take cores from XLA's training threads; NumPy's matrices here (≤ n × n kernels) gain nothing from
# them. Measured at n = 1000 on 2 cores: +10% steps/s without spectra, +24% with (bench/RESULTS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ntklab import __version__

STOP_GRACE_S = 0.8  # after Ctrl+C / SIGTERM the run gets this long to end before what it has is written


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ntklab", description="NTK Lab: neural networks in the kernel regime.")
    p.add_argument("--version", action="version", version=f"ntklab {__version__}")
    p.add_argument("--config", metavar="CONFIG.toml", help="experiment file to open in the window")
    p.add_argument("--screenshot", metavar="FILE.png",
                   help="start the window, train, save a screenshot of it and exit")
    p.add_argument("--steps", type=int, default=None, help="training steps for --screenshot")
    p.add_argument("--selftest", action="store_true",
                   help="run a short headless training and a kernel check, print versions; exit 0 if both pass")
    p.add_argument("--tab", choices=["training", "spectra"], default="training",
                   help="the tab shown (and captured by --screenshot)")
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run an experiment headless and write its snapshots")
    run.add_argument("config", metavar="CONFIG.toml")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    run.add_argument("--overwrite", action="store_true", help="replace a previous run in DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


class _Stop:
    """Ctrl+C and SIGTERM set this (main thread); the run's checkpoint reads it."""

    def __init__(self):
        self.event = threading.Event()
        self.code = 0

    def handler(self, signum, _frame):
        self.code = 128 + signum
        self.event.set()

    def install(self):
        previous = {s: signal.signal(s, self.handler) for s in (signal.SIGINT, signal.SIGTERM)}
        return lambda: [signal.signal(s, h) for s, h in previous.items()]


def run_headless(config: str, out: str, quiet: bool = False, overwrite: bool = False) -> int:
    from tqdm import tqdm

    from ntklab.session import Experiment, SpecError, TrainingDiverged, load_spec, write_run
    from ntklab.session.atomic import OutputError, check_out_dir
    from ntklab.session.record import RunRecord
    from ntklab.session.resources import check_resources

    try:
        spec = load_spec(config)
        for warning in check_resources(spec):
            print(f"note: {warning}", file=sys.stderr)
        check_out_dir(out, overwrite)
    except (SpecError, OutputError) as exc:
        _error(exc)
        return 2
    record, stop = RunRecord(), _Stop()
    outcome: dict = {}
    bar = tqdm(total=spec.train.steps, unit="step", disable=quiet, desc="compiling…")

    def checkpoint(progress) -> bool:
        bar.set_description({"compiling": "compiling…", "preparing": "preparing…"}.get(progress.phase, "training"))
        bar.update(progress.step - bar.n)
        return stop.event.is_set()

    def work():
        try:
            for snap in Experiment(spec).run(checkpoint):
                record.append(snap)
                bar.update(snap.step - bar.n)
                bar.set_postfix_str(f"train MSE network {snap.mse_train_net:.3g}, linearization "
                                    f"{snap.mse_train_lin:.3g}")
        except (TrainingDiverged, SpecError) as exc:
            outcome["error"] = exc
        except Exception as exc:  # noqa: BLE001 (reported as one line: a CLI prints no traceback)
            outcome["error"] = exc
            outcome["bug"] = True

    restore = stop.install()
    worker = threading.Thread(target=work, name="ntklab-run", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
            if stop.event.is_set():
                worker.join(STOP_GRACE_S)
                break
    finally:
        restore()
    bar.close()
    if stop.event.is_set():
        code = _write(record, spec, out, write_run, f"stopped by signal at step "
                      f"{record.last.step if record.last else 0}")
        sys.stdout.flush()
        sys.stderr.flush()
        if worker.is_alive():  # a compile or a single long step is in flight: do not wait for it
            os._exit(code or stop.code)
        return code or stop.code
    error = outcome.get("error")
    if error is not None:
        prefix = "internal error (please report): " if outcome.get("bug") else ""
        _error(f"{prefix}{type(error).__name__ + ': ' if outcome.get('bug') else ''}{error}")
        if isinstance(error, TrainingDiverged):
            return _write(record, spec, out, write_run, "diverged") or 3
        return 1 if outcome.get("bug") else 2
    code = _write(record, spec, out, write_run, None)
    if code:
        return code
    last = record.last
    print(f"{last.step} steps in {last.wall_time:.2f} s on {last.backend}; "
          f"train MSE network {last.mse_train_net:.3g}, linearization {last.mse_train_lin:.3g}. "
          f"Wrote {Path(out)}.")
    for note in last.notes:
        print(f"note: {note}")
    if not all(map(_finite, (last.mse_train_net, last.mse_test_net))):
        _error("the run's network results are not finite (NaN or inf); see the notes above.")
        return 4
    return 0


def _finite(x) -> bool:
    return x == x and abs(x) != float("inf")


def _write(record, spec, out, write_run, why: str | None) -> int:
    """Writes the record; 0 when written, 2 when it could not be."""
    if record.last is None:
        if why:
            print(f"Nothing to write: the run {why} before its first snapshot.", file=sys.stderr)
        return 0
    try:
        write_run(record, spec, out, overwrite=True)
    except OSError as exc:
        _error(f"--out {out}: could not write the results ({exc.strerror or exc}).")
        return 2
    if why:
        print(f"The snapshots up to step {record.last.step} ({why}) are in {out}.", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run_headless(args.config, args.out, args.quiet, args.overwrite)
    if args.selftest:
        from ntklab.selftest import main as selftest

        return selftest()
    from ntklab.ui.app import run_app

    return run_app(config=args.config, screenshot=args.screenshot, steps=args.steps, tab=args.tab)


if __name__ == "__main__":
    sys.exit(main())
