"""Headless runs: order, reproducibility, stopping, divergence, files, CLI, layering."""

import json
import math
import subprocess
import sys
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from ntklab.appinfo import resource
from ntklab.cli import main as cli_main
from ntklab.session import (
    Experiment,
    ExperimentSpec,
    Snapshot,
    SpecError,
    TrainingDiverged,
    dump_spec,
    load_spec,
    save_spec,
    snapshot_schedule,
)

TINY = ExperimentSpec().with_changes(model={"width": 64}, data={"n_train": 8, "n_test": 20},
                                     train={"steps": 60, "snapshots": 6, "learning_rate": 0.1})


def test_snapshots_in_order_and_complete():
    snaps = list(Experiment(TINY).run())
    steps = [s.step for s in snaps]
    assert steps == [0, 10, 20, 30, 40, 50, 60]
    assert all(b.wall_time >= a.wall_time for a, b in zip(snaps, snaps[1:]))
    last = snaps[-1]
    assert last.mse_train_net < snaps[0].mse_train_net and last.mse_train_lin < snaps[0].mse_train_lin
    assert last.f_grid_net.shape == last.f_grid_ntk.shape == (200,)
    assert np.isfinite(last.kernel_change) and last.kernel_change > 0
    assert snaps[0].mse_train_net == pytest.approx(snaps[0].mse_train_lin)  # same θ0
    assert snaps[0].mse_train_ntk == pytest.approx(snaps[0].mse_train_net, rel=1e-4)  # NTK ∞ starts at f(θ0)


def _assert_same(a, b, name):
    if is_dataclass(a):
        for f in fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{name}.{f.name}")
    elif a is None or b is None:
        assert a is b, name
    else:
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_same_seed_same_snapshots():
    a, b = list(Experiment(TINY).run()), list(Experiment(TINY).run())
    for s, t in zip(a, b):
        for f in fields(Snapshot):
            if f.name in ("wall_time", "data", "infinite"):
                continue
            _assert_same(getattr(s, f.name), getattr(t, f.name), f.name)
    other = list(Experiment(TINY.with_changes(train={"seed": 1})).run())
    assert not np.array_equal(other[-1].f_grid_net, a[-1].f_grid_net)


def test_stop_mid_run():
    gen = Experiment(TINY).run()
    first = [next(gen), next(gen)]
    gen.close()  # what the worker does on Stop
    with pytest.raises(StopIteration):
        next(gen)
    assert [s.step for s in first] == [0, 10]


def test_diverging_run_stops_with_a_message():
    spec = TINY.with_changes(train={"learning_rate": 50.0})
    with pytest.raises(TrainingDiverged, match=r"learning rate 50 is likely above the stability limit η_crit"):
        list(Experiment(spec).run())


def test_schedule_covers_all_steps():
    for steps, snaps in [(60, 6), (61, 6), (5, 200), (1000, 7)]:
        lengths = snapshot_schedule(steps, snaps)
        assert sum(lengths) == steps and all(n >= 1 for n in lengths)


def test_infinite_width_disabled():
    snaps = list(Experiment(TINY.with_changes(infinite={"enabled": False})).run())
    assert snaps[-1].f_grid_ntk is None and math.isnan(snaps[-1].mse_train_ntk)


# --- files ---------------------------------------------------------------------------------------


def test_toml_round_trip(tmp_path):
    spec = TINY.with_changes(model={"activation": "abrelu", "activation_params": {"a": -0.5, "b": 1.5}})
    save_spec(spec, tmp_path / "e.toml")
    assert load_spec(tmp_path / "e.toml") == spec


@pytest.mark.parametrize("text,message", [
    ("[model]\nwidht = 3\n", r"model.widht: unknown setting"),
    ("[model]\ndepth = -1\n", r"model.depth: -1 is not valid; use an integer ≥ 0"),
    ("[train]\nlearning_rate = 0\n", r"train.learning_rate: 0 is not valid; use a number > 0"),
    ("[model]\nactivation = 'swish'\n", r"activation: 'swish' is not known; choose one of relu"),
    ("[model]\nactivation = 'relu'\nactivation_params = {alpha = 1.0}\n", r"not understood by activation 'relu'"),
    ("[data]\nx_min = 3.0\nx_max = 1.0\n", r"data.x_max: 1.0 is not valid; use a number above data.x_min"),
    ("[modle]\n", r"unknown section"),
    ("[model\n", r"not valid TOML"),
])
def test_bad_files_give_clear_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=message):
        load_spec(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpecError, match="no such experiment file"):
        load_spec(tmp_path / "nope.toml")


def test_sample_config_loads():
    spec = load_spec(resource("sample_experiment.toml"))
    assert spec.model.width >= 1


def test_cli_run_writes_snapshots_and_summary(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(dump_spec(TINY))
    assert cli_main(["run", str(config), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    data = np.load(tmp_path / "out" / "snapshots.npz")
    assert data["step"].tolist() == [0, 10, 20, 30, 40, 50, 60]
    assert data["f_grid_net"].shape == (7, 200) and data["f_grid_ntk"].shape == (7, 200)
    assert data["mode_residual"].shape == (7, 8)
    assert data["spectra_step"].tolist() == [0, 40, 60]  # kernel every 4 snapshots and at the last
    assert data["spectra_eigvals"].shape == (3, 8) and data["spectra_kernel_image"].shape == (3, 8, 8)
    assert data["run_eigenfunctions"].shape == (4, 200)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["steps"] == 60 and summary["final"]["mse_train_net"] == pytest.approx(data["mse_train_net"][-1])
    assert 0 < summary["alignment"]["ntk_t"] <= 1
    assert load_spec(tmp_path / "out" / "experiment.toml") == TINY


def test_cli_precision_overrides_the_files(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(dump_spec(TINY))  # float32, the default
    assert cli_main(["run", str(config), "--out", str(tmp_path / "out"), "--quiet", "--precision", "float64"]) == 0
    assert load_spec(tmp_path / "out" / "experiment.toml") == TINY.with_changes(train={"precision": "float64"})
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["precision"] == "float64"
    with pytest.raises(SystemExit) as bad:
        cli_main(["run", str(config), "--out", str(tmp_path / "o2"), "--precision", "float16"])
    assert bad.value.code == 2 and "float64" in capsys.readouterr().err


def test_cli_reports_divergence_and_bad_config(tmp_path, capsys):
    config = tmp_path / "hot.toml"
    config.write_text(dump_spec(TINY.with_changes(train={"learning_rate": 50.0})))
    assert cli_main(["run", str(config), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    assert "stability limit" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nsteps = 0\n")
    assert cli_main(["run", str(bad), "--out", str(tmp_path / "o2"), "--quiet"]) == 2
    assert "train.steps: 0 is not valid" in capsys.readouterr().err


def test_session_does_not_import_qt():
    code = "import sys, ntklab.session, ntklab.core; bad = [m for m in ('PySide6', 'pyqtgraph', 'superqt') if m in sys.modules]; assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_lazy_regime_appears_with_width():
    """At width 2048 network and linearization stay close over 1000 steps; at width 32 they part."""
    gaps = {}
    for width in (32, 2048):
        spec = ExperimentSpec().with_changes(model={"width": width}, train={"steps": 1000, "snapshots": 10,
                                                                           "learning_rate": 0.1})
        last = list(Experiment(spec).run())[-1]
        gaps[width] = (last.lin_gap, last.kernel_change)
    assert gaps[2048][0] < 0.05 and gaps[32][0] > 4 * gaps[2048][0], gaps
    assert gaps[32][1] > 4 * gaps[2048][1], gaps
