"""Writing a run to disk: ``snapshots.npz`` (one array per field, stacked over snapshots) + ``summary.json``."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from ntklab.session.experiment import Snapshot
from ntklab.session.spec import ExperimentSpec, dump_spec, spec_to_dict

_PER_SNAPSHOT = [f.name for f in fields(Snapshot)
                 if f.name not in ("data", "infinite", "backend", "f_grid_ntk", "spectra", "run_spectra")]


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
    with_spectra = [s for s in snapshots if s.spectra is not None]
    if with_spectra:  # kernel updates only: spectra_step says which steps
        arrays["spectra_step"] = np.array([s.step for s in with_spectra])
        for name, _ in asdict(with_spectra[0].spectra).items():
            arrays[f"spectra_{name}"] = np.stack([getattr(s.spectra, name) for s in with_spectra])
    if last.run_spectra is not None:
        for name, value in asdict(last.run_spectra).items():
            if isinstance(value, np.ndarray):
                arrays[f"run_{name}"] = value
    np.savez_compressed(out / "snapshots.npz", **arrays)
    (out / "experiment.toml").write_text(dump_spec(spec), encoding="utf-8")
    summary = {
        "spec": spec_to_dict(spec),
        "steps": last.step,
        "wall_time_s": last.wall_time,
        "final": {name: float(getattr(last, name)) for name in _PER_SNAPSHOT if name.startswith(("mse_", "param_", "kernel_", "lin_"))},
        "eta_crit": last.eta_crit,
        "alignment": None if last.run_spectra is None else {
            "ntk0": last.run_spectra.alignment_ntk0, "ntk_t": last.alignment,
            "ntk_inf": last.run_spectra.alignment_ntk_inf},
        "backend": last.backend,
        "python": platform.python_version(),
    }
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, allow_nan=True), encoding="utf-8")
    return path
