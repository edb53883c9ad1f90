"""Writing a run to disk: ``snapshots.npz`` (one array per field, stacked over snapshots) + ``summary.json``."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np

from ntklab.session.experiment import Snapshot
from ntklab.session.spec import ExperimentSpec, dump_spec, spec_to_dict

_PER_SNAPSHOT = [f.name for f in fields(Snapshot) if f.name not in ("data", "infinite", "backend", "f_grid_ntk")]


def write_run(snapshots: Sequence[Snapshot], spec: ExperimentSpec, out_dir: str | Path) -> Path:
    """Writes the run into ``out_dir`` (created if needed) and returns the summary's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if not snapshots:
        raise ValueError("snapshots: the run produced none; nothing to write.")
    arrays = {name: np.stack([np.asarray(getattr(s, name)) for s in snapshots]) for name in _PER_SNAPSHOT}
    last = snapshots[-1]
    data = last.data
    arrays.update(x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test,
                  x_grid=data.x_grid, y_grid=data.y_grid)
    if last.f_grid_ntk is not None:
        arrays["f_grid_ntk"] = np.stack([s.f_grid_ntk for s in snapshots])
    if last.infinite is not None:
        arrays.update(nngp_mean=last.infinite.nngp_mean, nngp_std=last.infinite.nngp_std,
                      ntk_train_train_analytic=last.infinite.ntk_train_train)
    np.savez_compressed(out / "snapshots.npz", **arrays)
    (out / "experiment.toml").write_text(dump_spec(spec), encoding="utf-8")
    summary = {
        "spec": spec_to_dict(spec),
        "steps": last.step,
        "wall_time_s": last.wall_time,
        "final": {name: float(getattr(last, name)) for name in _PER_SNAPSHOT if name.startswith(("mse_", "param_", "kernel_", "lin_"))},
        "eta_crit": last.eta_crit,
        "backend": last.backend,
        "python": platform.python_version(),
    }
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=True), encoding="utf-8")
    return path
