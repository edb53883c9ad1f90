"""Writing a run to disk, whole or not at all.

A folder with ``snapshots.npz`` (one array per field: scalars over every snapshot, arrays over the
kept ones, spectra over the kept kernel updates, the data, the run's fixed spectra),
``scalars.csv`` (the per-snapshot scalars, one row a snapshot), ``fields.csv`` and ``README.txt``
(name, shape, unit and meaning of every array), ``summary.json`` and the ``experiment.toml`` that ran.
"""

from __future__ import annotations

import csv
import io
import json
import math
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ntklab import __version__
from ntklab.session.atomic import OutputFolder
from ntklab.session.fields import FIELDS, describe
from ntklab.session.record import ARRAY_FIELDS, RunRecord
from ntklab.session.spec import ExperimentSpec, dump_spec, spec_to_dict

FINAL_FIELDS = ("mse_train_net", "mse_test_net", "mse_train_lin", "mse_test_lin", "mse_train_ntk", "mse_test_ntk",
                "param_change", "kernel_change", "lin_gap", "accuracy_test_net", "accuracy_test_lin",
                "accuracy_test_ntk")


def _json_value(v):
    """JSON has no NaN or inf: they are written as null (and said so in README.txt)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, (np.floating, np.integer)):
        return _json_value(v.item())
    return v


def run_arrays(record: RunRecord) -> dict[str, np.ndarray]:
    """Every array of ``snapshots.npz``."""
    arrays: dict[str, np.ndarray] = dict(record.scalars)
    arrays.update(record.vectors)
    kept = record.snapshots
    arrays["kept_step"] = np.array([s.step for s in kept])
    for name in ARRAY_FIELDS:
        if all(getattr(s, name) is not None for s in kept):
            arrays[name] = np.stack([np.asarray(getattr(s, name)) for s in kept])
    last = record.last
    data = last.data
    arrays.update(x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test,
                  x_grid=data.x_grid, y_grid=data.y_grid)
    if last.infinite is not None:
        arrays["ntk_train_train_analytic"] = last.infinite.ntk_train_train
        for name in ("nngp_mean", "nngp_std"):
            if getattr(last.infinite, name) is not None:
                arrays[name] = getattr(last.infinite, name)
    kernels = record.kernels
    if kernels:
        arrays["spectra_step"] = np.array([k.step for k in kernels])
        for name in asdict(kernels[0].spectra):
            arrays[f"spectra_{name}"] = np.stack([getattr(k.spectra, name) for k in kernels])
    if last.run_spectra is not None:
        for name, value in asdict(last.run_spectra).items():
            if isinstance(value, np.ndarray):
                arrays[f"run_{name}"] = value
    return arrays


def summary(record: RunRecord, spec: ExperimentSpec) -> dict:
    last = record.last
    final = {name: float(getattr(last, name)) for name in FINAL_FIELDS}
    final.update({f"{name}[{i + 1}]": float(v) for name in ("feature_change", "weight_change")
                  for i, v in enumerate(getattr(last, name))})
    return _json_value({
        "ntklab": __version__,
        "spec": spec_to_dict(spec),
        "data": dict(getattr(last.data, "source_settings", {}) or {}),
        "steps": last.step,
        "steps_total": last.steps_total,
        "finished": last.step == last.steps_total,
        "snapshots": len(record),
        "wall_time_s": last.wall_time,
        "final": final,
        "eta_crit": last.eta_crit,
        "lin_diverged_step": None if last.lin_diverged_step < 0 else last.lin_diverged_step,
        "ntk_diverged_step": None if last.ntk_diverged_step < 0 else last.ntk_diverged_step,
        "alignment": None if last.run_spectra is None else {
            "ntk0": last.run_spectra.alignment_ntk0, "ntk_t": last.alignment,
            "ntk_inf": last.run_spectra.alignment_ntk_inf},
        "notes": list(last.notes),
        "precision": last.precision,
        "backend": last.backend,
        "python": platform.python_version(),
    })


def _fields_table(arrays: dict[str, np.ndarray]) -> list[list[str]]:
    rows = [["name", "shape", "dtype", "unit", "meaning"]]
    for name, value in arrays.items():
        shape, unit, meaning = describe(name)
        rows.append([name, f"{tuple(value.shape)} = {shape}" if shape else str(tuple(value.shape)), str(value.dtype),
                     unit, meaning])
    return rows


def _csv(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _scalars_csv(record: RunRecord) -> str:
    scalars, vectors = record.scalars, record.vectors
    columns = list(scalars)
    values = [scalars[c] for c in columns]
    for name, block in vectors.items():
        for i in range(block.shape[1]):
            columns.append(f"{name}[{i + 1}]")
            values.append(block[:, i])
    rows = [columns] + [[_fmt(v[r]) for v in values] for r in range(len(record))]
    return _csv(rows)


def _fmt(v) -> str:
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    return "" if not np.isfinite(v) else repr(float(v))


def _readme(arrays: dict[str, np.ndarray], record: RunRecord) -> str:
    lines = [
        f"NTK Lab {__version__} run export.",
        "",
        "snapshots.npz  one array per field (numpy.load); shapes: S snapshots, K kept snapshots "
        "(kept_step), U kept kernel updates (spectra_step), n training, m test, G grid points.",
        "scalars.csv    the per-snapshot scalars, one row per snapshot (empty cell = NaN: not measured "
        "at that snapshot, e.g. kernel fields between kernel updates, or a diverged curve).",
        "fields.csv     this table as CSV.",
        "summary.json   the spec, final values, η_crit, notes (NaN is written as null).",
        "experiment.toml  the experiment that ran (ntklab run experiment.toml reproduces it).",
        "",
        "Conventions: C = ‖f − y‖²/(2n); t = η·step; the NTK ∞ answer is gradient flow from the network's "
        "own f(θ₀). Kernel fields are NaN except at kernel updates; mode_residual is signed.",
        "",
    ]
    if record.notes:
        lines += ["Notes on this run:"] + [f"  - {n}" for n in record.notes] + [""]
    width = max(len(n) for n in arrays)
    for name, shape, dtype, unit, meaning in _fields_table(arrays)[1:]:
        lines.append(f"{name:<{width}}  {shape}  [{unit}]  {meaning}")
    return "\n".join(lines) + "\n"


def write_run(record: RunRecord, spec: ExperimentSpec, out_dir: str | Path, overwrite: bool = True) -> Path:
    """Writes the run into ``out_dir`` (a new folder, or one holding only a previous run when
    ``overwrite``), all files or none; returns the summary's path."""
    if record.last is None:
        raise ValueError("snapshots: the run produced none; nothing to write.")
    arrays = run_arrays(record)
    folder = OutputFolder(out_dir, overwrite=overwrite)
    with folder as tmp:
        with open(tmp / "snapshots.npz", "wb") as f:
            np.savez_compressed(f, **arrays)
        (tmp / "experiment.toml").write_text(dump_spec(spec), encoding="utf-8")
        (tmp / "scalars.csv").write_text(_scalars_csv(record), encoding="utf-8")
        (tmp / "fields.csv").write_text(_csv(_fields_table(arrays)), encoding="utf-8")
        (tmp / "README.txt").write_text(_readme(arrays, record), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(summary(record, spec), indent=2, allow_nan=False),
                                          encoding="utf-8")
    return folder.out / "summary.json"


__all__ = ["FIELDS", "run_arrays", "summary", "write_run"]
