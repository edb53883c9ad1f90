"""Training throughput headless vs inside the running window, and the GUI event loop's lateness.

Targets (issue 2): in-window steps/s ≥ 90% of headless; p99 lateness of a 10 ms timer ≤ 25 ms.
Issue 15 adds the default experiment at width 4096 (``WIDE``): ≥ 25 steps/s in the window, with the
linearization and the NTK ∞ curves on (the defaults). ``python bench/bench_training.py [wide]``.
Steps/s excludes the first chunk (compilation): (last.step − first.step)/(last.wall − first.wall).
"""

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app sets it (ntklab/cli.py), before NumPy loads

import numpy as np  # noqa: E402

from ntklab.session import Experiment, ExperimentSpec  # noqa: E402

SPEC = ExperimentSpec().with_changes(train={"steps": 30000, "snapshots": 1000})  # ~10 s a run at ~3000 steps/s
WIDE = ExperimentSpec().with_changes(model={"width": 4096}, train={"steps": 600, "snapshots": 60})


def rate(snaps) -> float:
    first, last = snaps[1], snaps[-1]
    return (last.step - first.step) / (last.wall_time - first.wall_time)


def headless(spec=SPEC) -> float:
    return rate(list(Experiment(spec).run()))


def in_window(spec=SPEC, tab: int = 0) -> tuple[float, np.ndarray]:
    """Steps/s of ``spec`` trained in the window with tab ``tab`` shown, and the timer's lateness (ms)."""
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from ntklab.ui.app import create_window

    app = QApplication.instance() or QApplication([])
    window, controller = create_window()
    window.tabs.setCurrentIndex(tab)
    window.show()
    lateness, clock = [], QElapsedTimer()
    timer = QTimer()
    timer.setInterval(10)
    state = {"last": None}

    def tick():
        now = clock.nsecsElapsed() / 1e6
        if state["last"] is not None and len(controller.snapshots) > 1:  # after compilation
            lateness.append(now - state["last"] - 10.0)
        state["last"] = now

    timer.timeout.connect(tick)
    clock.start()
    timer.start()
    controller.runFinished.connect(app.quit)
    controller.start(spec)
    app.exec()
    timer.stop()
    window.close()
    result = rate(controller.snapshots), np.maximum(np.array(lateness), 0.0)
    # Delete the window here, in the GUI thread: left to Python's cycle collector, it could be
    # collected inside the next run's worker thread, which Qt objects do not survive.
    window.deleteLater()
    controller.deleteLater()
    app.processEvents()
    del window, controller
    gc.collect()
    return result


def run(repeats: int = 3, spec=SPEC, target: float | None = None) -> list[str]:
    """Interleaved headless and in-window runs (this machine's speed drifts by ±15%); medians.
    ``target``: steps/s the window must reach (a row of its own)."""
    heads, wins, p99s, lates = [], [], [], []
    for _ in range(repeats):
        heads.append(headless(spec))
        win, late = in_window(spec)
        wins.append(win)
        lates.append(late)
        p99s.append(float(np.percentile(late, 99)))
    head, win, p99 = np.median(heads), np.median(wins), np.median(p99s)
    p50, p95 = np.percentile(np.concatenate(lates), [50, 95])
    m, tr = spec.model, spec.train
    rows = [
        f"Spec: default experiment (depth {m.depth}, width {m.width}, n_train {spec.data.n_train}), {tr.steps} steps, "
        f"{tr.snapshots} snapshots; {repeats} interleaved runs of each, medians.",
        "",
        "| measure | value | runs | target | met |",
        "|---|---|---|---|---|",
        f"| headless steps/s | {head:,.0f} | {', '.join(f'{h:,.0f}' for h in heads)} | | |",
        f"| in-window steps/s | {win:,.0f} ({100 * win / head:.0f}% of headless) | "
        f"{', '.join(f'{w:,.0f}' for w in wins)} | ≥ 90% | {'yes' if win >= 0.9 * head else 'NO'} |",
        f"| 10 ms timer lateness p99 (ms) | {p99:.1f} | {', '.join(f'{p:.1f}' for p in p99s)} | ≤ 25 | "
        f"{'yes' if p99 <= 25 else 'NO'} |",
        f"| lateness p50 / p95 over all runs (ms) | {p50:.1f} / {p95:.1f} | | | |",
    ]
    if target is not None:
        rows.append(f"| in-window steps/s against the target | {win:,.1f} | | ≥ {target:g} | "
                    f"{'yes' if win >= target else 'NO'} |")
    return rows


def run_wide(repeats: int = 3) -> list[str]:
    return run(repeats, WIDE, target=25.0)


if __name__ == "__main__":
    import sys

    print("\n".join(run_wide() if sys.argv[1:] == ["wide"] else run()))
