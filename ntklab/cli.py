"""Command line: ``ntklab`` (the window), ``ntklab run CONFIG --out DIR``, ``ntklab --screenshot FILE``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# One OpenBLAS thread, set before NumPy loads: after each call OpenBLAS's threads spin-wait and
# take cores from XLA's training threads; NumPy's matrices here (≤ n × n kernels) gain nothing from
# them. Measured at n = 1000 on 2 cores: +10% steps/s without spectra, +24% with (bench/RESULTS.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from ntklab import __version__


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
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def run_headless(config: str, out: str, quiet: bool = False) -> int:
    from tqdm import tqdm

    from ntklab.session import Experiment, SpecError, TrainingDiverged, load_spec, write_run

    try:
        spec = load_spec(config)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    snapshots = []
    bar = tqdm(total=spec.train.steps, unit="step", disable=quiet, desc="compiling…")
    try:
        for snap in Experiment(spec).run():
            snapshots.append(snap)
            bar.set_description("training")
            bar.update(snap.step - bar.n)
            bar.set_postfix(mse=f"{snap.mse_train_net:.3g}", lin=f"{snap.mse_train_lin:.3g}")
    except TrainingDiverged as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        if snapshots:
            write_run(snapshots, spec, out)
            print(f"The snapshots up to step {snapshots[-1].step} are in {out}.", file=sys.stderr)
        return 3
    bar.close()
    summary = write_run(snapshots, spec, out)
    last = snapshots[-1]
    print(f"{last.step} steps in {last.wall_time:.2f} s on {last.backend}; "
          f"train MSE network {last.mse_train_net:.3g}, linearization {last.mse_train_lin:.3g}. "
          f"Wrote {Path(out) / 'snapshots.npz'} and {summary}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return run_headless(args.config, args.out, args.quiet)
    if args.selftest:
        from ntklab.selftest import main as selftest

        return selftest()
    from ntklab.ui.app import run_app

    return run_app(config=args.config, screenshot=args.screenshot, steps=args.steps, tab=args.tab)


if __name__ == "__main__":
    sys.exit(main())
