"""Command line: ``ntklab`` (the window), ``ntklab run CONFIG --out DIR``, ``ntklab sweep FILE --out DIR``,
``ntklab --screenshot FILE``.

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
    p.add_argument("--tab", choices=["training", "spectra", "sweep"], default="training",
                   help="the tab shown (and captured by --screenshot; sweep: runs the --config file's [sweep])")
    p.add_argument("--guide", metavar="PAGE", default=None,
                   help="open the guide beside the plots at this page (e.g. start, linearization)")
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run an experiment headless and write its snapshots")
    run.add_argument("config", metavar="CONFIG.toml")
    run.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    run.add_argument("--overwrite", action="store_true", help="replace a previous run in DIR")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--precision", choices=["float32", "float64"], default=None,
                     help="train.precision for this run (default: the file's)")
    sweep = sub.add_parser("sweep", help="run a sweep (an experiment file with a [sweep] section) headless")
    sweep.add_argument("config", metavar="FILE.toml")
    sweep.add_argument("--out", required=True, metavar="DIR",
                       help="output folder (created if missing; a folder of the same sweep is resumed)")
    sweep.add_argument("--ray", metavar="auto|ADDRESS", default=None,
                       help="run the points as Ray tasks on a cluster ('auto': the one this machine belongs to; "
                            "ray://HOST:10001: a remote one; 'local': one started on this machine); needs "
                            "pip install 'ntklab[cluster]'")
    sweep.add_argument("--overwrite", action="store_true", help="replace the points of a different sweep in DIR")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
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


def _run_in_thread(work, stop: "_Stop", name: str, expected: tuple) -> tuple[dict, threading.Thread]:
    """Runs ``work()`` in a daemon thread while this one waits for a signal: after Ctrl+C / SIGTERM the
    work gets STOP_GRACE_S to end. Returns the outcome ({"error": exc, "bug": True for an exception
    not in ``expected``}) and the thread (alive when the work did not end in time)."""
    outcome: dict = {}

    def guarded():
        try:
            work()
        except expected as exc:
            outcome["error"] = exc
        except Exception as exc:  # noqa: BLE001 (reported as one line: a CLI prints no traceback)
            outcome["error"] = exc
            outcome["bug"] = True

    restore = stop.install()
    worker = threading.Thread(target=guarded, name=name, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.05)
            if stop.event.is_set():
                worker.join(STOP_GRACE_S)
                break
    finally:
        restore()
    return outcome, worker


def _report(outcome: dict) -> None:
    """Prints the work's error in one line (a bug is named as one)."""
    error, bug = outcome["error"], outcome.get("bug")
    _error(f"internal error (please report): {type(error).__name__}: {error}" if bug else str(error))


def run_headless(config: str, out: str, quiet: bool = False, overwrite: bool = False,
                 precision: str | None = None) -> int:
    from tqdm import tqdm

    from ntklab.session import Experiment, SpecError, TrainingDiverged, load_spec, write_run
    from ntklab.session.atomic import OutputError, check_out_dir
    from ntklab.session.record import RunRecord
    from ntklab.session.resources import check_resources

    try:
        spec = load_spec(config)
        if precision is not None:
            spec = spec.with_changes(train={"precision": precision})
        for warning in check_resources(spec):
            print(f"note: {warning}", file=sys.stderr)
        check_out_dir(out, overwrite)
    except (SpecError, OutputError) as exc:
        _error(exc)
        return 2
    record, stop = RunRecord(), _Stop()
    bar = tqdm(total=spec.train.steps, unit="step", disable=quiet, desc="compiling…")

    def checkpoint(progress) -> bool:
        bar.set_description({"compiling": "compiling…", "preparing": "preparing…"}.get(progress.phase, "training"))
        bar.update(progress.step - bar.n)
        return stop.event.is_set()

    def work():
        for snap in Experiment(spec).run(checkpoint):
            record.append(snap)
            bar.update(snap.step - bar.n)
            bar.set_postfix_str(f"train MSE network {snap.mse_train_net:.3g}, linearization "
                                f"{snap.mse_train_lin:.3g}")

    outcome, worker = _run_in_thread(work, stop, "ntklab-run", expected=(TrainingDiverged, SpecError))
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
        _report(outcome)
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


def sweep_headless(config: str, out: str, ray: str | None = None, quiet: bool = False,
                   overwrite: bool = False) -> int:
    """``ntklab sweep``: the exit codes of ``ntklab run`` (0 done, 2 bad file or folder, 4 no point with
    finite results, 130/143 stopped: the finished points are kept and written)."""
    from tqdm import tqdm

    from ntklab.session import SpecError, load_spec
    from ntklab.session.atomic import OutputError
    from ntklab.session.sweep import Sweep, SweepFolder, value_key

    try:
        spec = load_spec(config)
        if spec.sweep is None:
            raise SpecError(f"{config}: no [sweep] section; add one (field, values or range, seeds), "
                            f"or use ntklab run for one experiment.")
        sweep = Sweep(spec)
        for warning in sweep.warnings:
            print(f"note: {warning}", file=sys.stderr)
        folder = SweepFolder(out, sweep, overwrite=overwrite)
    except (SpecError, OutputError) as exc:
        _error(exc)
        return 2
    done = folder.done
    if done and not quiet:
        print(f"Resuming: {len(done)} of {sweep.total} points are already in {out}.", file=sys.stderr)
    stop = _Stop()
    bar = tqdm(total=sweep.total, initial=len(done), unit="point", disable=quiet, desc="preparing…")
    field = spec.sweep.field

    def checkpoint(progress) -> bool:
        if progress.value is not None:
            bar.set_description(f"{field} = {value_key(progress.value)}: {progress.phase}")
            bar.set_postfix_str(f"step {progress.step}/{progress.steps_total}", refresh=False)
        bar.refresh()
        return stop.event.is_set()

    def work():
        points = (sweep.run_ray(None if ray == "local" else ray, checkpoint, skip=done) if ray
                  else sweep.run(checkpoint, skip=done))
        for point in points:
            folder.append(point)
            bar.update(1)

    outcome, worker = _run_in_thread(work, stop, "ntklab-sweep", expected=(SpecError,))
    bar.close()
    error = outcome.get("error")
    if error is not None:
        _report(outcome)
    code = _finish_sweep(folder, out)
    points = list(folder.points)
    if stop.event.is_set():
        print(f"Stopped by signal: {len(points)} of {sweep.total} points are in {out}; run the same command "
              f"to resume.", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        if worker.is_alive():  # a compile or a long chunk is in flight: do not wait for it
            os._exit(code or stop.code)
        return code or stop.code
    if error is not None:
        return 1 if outcome.get("bug") else 2
    if code:
        return code
    finite = [p for p in points if _finite(p.fields.get("mse_test_net", float("nan")))]
    print(f"{len(points)} points of {sweep.total} in {out}.")
    for name, fit in sorted(folder.summary()["slopes"].items()):
        if name in ("param_change", "kernel_change", "lin_gap", "mse_test_net", "weight_change[1]"):
            print(f"  slope of {name} vs {field}: {fit['slope']:.3f} ± {fit['stderr']:.3f}")
    if points and not finite:
        _error("no point's network results are finite (NaN or inf); see the notes in summary.json.")
        return 4
    return 0


def _finish_sweep(folder, out: str) -> int:
    """Writes the sweep's final files and its PNG; 0 when written, 2 when they could not be."""
    png = None
    try:
        png = render_sweep_png(folder.sweep, list(folder.points))
    except Exception as exc:  # noqa: BLE001 (no display libraries: the numbers are still written)
        print(f"note: the plots were not drawn ({type(exc).__name__}: {exc}).", file=sys.stderr)
    try:
        folder.finish(png)
    except OSError as exc:
        _error(f"--out {out}: could not write the results ({exc.strerror or exc}).")
        return 2
    return 0


def render_sweep_png(sweep, points, size=(1500, 1000)) -> bytes:
    """The Sweep tab's plots of ``points``, rendered offscreen, as PNG bytes (Qt imported here only)."""
    if "PySide6.QtWidgets" not in sys.modules:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtWidgets import QApplication

    from ntklab.ui.sweep import SweepPanel

    app = QApplication.instance() or QApplication(["ntklab", "-platform", "offscreen"])
    pg.setConfigOptions(antialias=True, background="w", foreground="k")  # as the window draws
    panel = SweepPanel()
    panel.resize(*size)
    panel.set_sweep(sweep)
    curve = sweep.learning_curve()
    if curve is not None:
        panel.set_learning_curve(curve["n_train"], curve["mse_test_theory"])
    for point in points:
        panel.add_point(point)
    # the compute time: each batch's seconds once (its points share them)
    panel.set_elapsed(sum(p.fields.get("wall_time", 0.0) / max(p.fields.get("batch_size", 1.0), 1.0)
                          for p in points))
    panel.refresh()
    app.processEvents()
    image = panel.grab()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    panel.deleteLater()
    app.processEvents()
    return bytes(data.data())


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
        return run_headless(args.config, args.out, args.quiet, args.overwrite, args.precision)
    if args.command == "sweep":
        return sweep_headless(args.config, args.out, args.ray, args.quiet, args.overwrite)
    if args.selftest:
        from ntklab.selftest import main as selftest

        return selftest()
    from ntklab.ui.app import run_app

    return run_app(config=args.config, screenshot=args.screenshot, steps=args.steps, tab=args.tab,
                   guide=args.guide)


if __name__ == "__main__":
    sys.exit(main())
