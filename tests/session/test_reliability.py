"""Nothing crashes, hangs or is lost: hostile experiment files, bounded memory, atomic outputs, signals."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ntklab.cli import main as cli_main
from ntklab.session import (
    Experiment,
    ExperimentSpec,
    OutputError,
    RunRecord,
    SpecError,
    check_out_dir,
    check_resources,
    dump_spec,
    load_spec,
    write_run,
)
from ntklab.session.export import run_arrays
from ntklab.session.fields import FIELDS

TINY = ExperimentSpec().with_changes(model={"width": 32}, data={"n_train": 6, "n_test": 10},
                                     train={"steps": 40, "snapshots": 4})

# (file contents as bytes, the message it must give); each must be a SpecError in < 2 s, no traceback
HOSTILE = [
    ("[model]\nwidth = 3".encode("utf-16"), r"not a UTF-8 text file"),
    ("[model]\nactivation = 'relu' # caf\xe9\n".encode("latin-1"), r"not a UTF-8 text file"),
    (bytes(range(256)) * 4, r"not a UTF-8 text file|not valid TOML"),
    (b"a = " + b"[" * 5000 + b"]" * 5000, r"nested too deeply|not valid TOML|unknown section"),
    (b"[model]\nactivation_params = 'abc'\n", r"model.activation_params: 'abc' is not valid; use a table"),
    (b"[model]\nw_std = true\n", r"model.w_std: True is not valid; use a number"),
    (b"[model]\nwidth = 64.0\n", r"model.width: 64.0 is not valid; use an integer"),
    (b"[train]\nseed = 18446744073709551616\n", r"train.seed: .* is not valid"),
    (b"[data]\nx_min = -1e308\nx_max = 1e308\n", r"data.x_min: -1e\+308 is not valid; use a finite number"),
    (b"[model]\nw_std = 1e300\n", r"model.w_std: 1e\+300 is not valid"),
    (b"[model]\nw_std = 0.0\nb_std = 0.0\n", r"network is the constant 0"),
    (b"[model]\nw_std = nan\n", r"model.w_std: nan is not valid"),
    (b"[model]\nactivation = 'erf'\nactivation_params = {a = 'x'}\n", r"model.activation_params.a: 'x'"),
    (b"[model]\nactivation = 'erf'\nactivation_params = {a = nan}\n", r"model.activation_params.a: nan"),
    (b"[train]\nsteps = 1000000000000\n", r"train.steps: .* use an integer from 1 to 1,000,000,000"),
    (b"[train]\nsnapshots = 1000000000\n", r"train.snapshots"),
    (b"[model]\nwidth = 2147483648\n", r"model.width: 2,147,483,648 is above the maximum"),
    (b"[data]\nn_train = 100000000\n", r"data.n_train: 100,000,000 is above the maximum"),
    (b"[model]\nactivation = '" + b"x" * 5_000_000 + b"'\n", r"too large for an experiment file"),
    (b"[model]\nactivation = '" + b"x" * 50_000 + b"'\n", r"activation: 'xxx.* … .*choose one of relu"),
    (b"[train]\nlearning_rate = 'fast'\n", r"train.learning_rate: 'fast' is not valid; use a number"),
    (b"[train]\nprecision = 'float16'\n", r"train.precision: 'float16' is not valid"),
    (b"model = 3\n", r"\[model\]: expected a table"),
]


@pytest.mark.timing
@pytest.mark.parametrize("content,message", HOSTILE, ids=[m[:30] for _, m in HOSTILE])
def test_hostile_files_give_one_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(SpecError, match=message) as info:
        load_spec(path)
    assert time.perf_counter() - started < 2
    assert len(str(info.value)) < 600  # huge values are not echoed back


def test_a_folder_is_not_an_experiment(tmp_path):
    with pytest.raises(SpecError, match="is a folder"):
        load_spec(tmp_path)


def test_cli_answers_hostile_files_in_one_line(tmp_path, capsys):
    for i, (content, _) in enumerate(HOSTILE[:8]):
        path = tmp_path / f"bad{i}.toml"
        path.write_bytes(content)
        assert cli_main(["run", str(path), "--out", str(tmp_path / f"o{i}"), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err


def test_machine_limits_are_refused_naming_the_field():
    with pytest.raises(SpecError, match=r"data.n_train: this run would need about .* GiB"):
        check_resources(ExperimentSpec().with_changes(data={"n_train": 100_000}))
    with pytest.raises(SpecError, match=r"model.width: this run would need"):
        check_resources(ExperimentSpec().with_changes(model={"width": 65_536, "depth": 8}))
    assert check_resources(ExperimentSpec()) == []
    warn = check_resources(ExperimentSpec().with_changes(model={"width": 4096}, train={"steps": 10**7}))
    assert warn and "minutes" in warn[0]


def test_record_memory_is_bounded_and_evenly_thinned():
    snaps = list(Experiment(TINY.with_changes(train={"steps": 40, "snapshots": 40, "kernel_every": 1})).run())
    record = RunRecord(max_arrays=8, max_kernels=4)
    for _ in range(50):  # 50 × 41 snapshots, steps made distinct
        for s in snaps:
            record.append(s)
    kept = record.snapshots
    assert len(record) == 50 * 41 and len(record.scalars["step"]) == 50 * 41
    assert 4 <= len(kept) <= 9 and kept[-1] is not None and len(record.kernels) <= 5
    assert record.vectors["weight_change"].shape == (50 * 41, 3)


def test_export_describes_every_array_and_writes_no_nan_json(tmp_path):
    record = RunRecord()
    for s in Experiment(TINY).run():
        record.append(s)
    summary_path = write_run(record, TINY, tmp_path / "out")
    out = summary_path.parent
    arrays = np.load(out / "snapshots.npz")
    for name in arrays.files:
        assert name in FIELDS, f"{name} has no description"
    with open(out / "fields.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["name"] for r in rows} == set(arrays.files) and all(r["meaning"] for r in rows)
    with open(out / "scalars.csv") as f:
        header = next(csv.reader(f))
    assert header[0] == "step" and "weight_change[3]" in header and "mse_test_lin" in header
    json.loads((out / "summary.json").read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in JSON"))
    assert "Conventions" in (out / "README.txt").read_text()
    assert load_spec(out / "experiment.toml") == TINY


def test_out_folder_rules(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="a file of that name exists"):
        check_out_dir(tmp_path / "file")
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(OutputError, match="holds other files"):
        check_out_dir(other, overwrite=True)
    prev = tmp_path / "prev"
    prev.mkdir()
    (prev / "summary.json").write_text("{}")
    with pytest.raises(OutputError, match="add --overwrite"):
        check_out_dir(prev)
    assert check_out_dir(prev, overwrite=True) == prev


@pytest.mark.timing
def test_cli_refuses_a_bad_out_before_running(tmp_path, capsys):
    config = tmp_path / "e.toml"
    config.write_text(dump_spec(TINY))
    (tmp_path / "taken").write_text("x")
    started = time.perf_counter()
    assert cli_main(["run", str(config), "--out", str(tmp_path / "taken"), "--quiet"]) == 2
    assert time.perf_counter() - started < 2 and "a file of that name exists" in capsys.readouterr().err


def _cli(args, **kw):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "ntklab", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, **kw)


@pytest.mark.timing
@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cli_stops_on_a_signal_within_a_second_and_writes_what_it_has(tmp_path, sig, code):
    import threading

    config = tmp_path / "long.toml"
    config.write_text(dump_spec(TINY.with_changes(train={"steps": 100_000_000, "snapshots": 100})))
    out = tmp_path / "out"
    with _cli(["run", str(config), "--out", str(out)]) as proc:
        err: list[str] = []
        reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(1), "")), daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while "training" not in "".join(err) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # the progress bar says "training" once compiling is done
        time.sleep(0.5)
        sent = time.monotonic()
        proc.send_signal(sig)
        proc.wait(timeout=30)
        elapsed = time.monotonic() - sent
        reader.join(5)
    text = "".join(err)
    assert proc.returncode == code, text
    assert elapsed < 1.5, elapsed  # 1 s, plus the subprocess's exit
    data = np.load(out / "snapshots.npz")
    assert data["step"][0] == 0 and "stopped by signal" in text
    json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_kill_9_while_writing_leaves_a_complete_set(tmp_path):
    """A writer killed at random moments leaves the previous complete set or the new one, 20 times."""
    record = RunRecord()
    for s in Experiment(TINY).run():
        record.append(s)
    out = tmp_path / "out"
    write_run(record, TINY, out)
    before = (out / "summary.json").read_text()
    import pickle

    blob = tmp_path / "record.pkl"
    blob.write_bytes(pickle.dumps((record, TINY.with_changes(train={"seed": 5}))))
    script = (
        "import sys, pickle; from ntklab.session import write_run\n"
        "record, spec = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print('ready', flush=True)\n"
        "while True: write_run(record, spec, sys.argv[2])\n"
    )
    rng = np.random.default_rng(0)
    for _ in range(20):
        with subprocess.Popen([sys.executable, "-c", script, str(blob), str(out)], stdout=subprocess.PIPE,
                              text=True) as proc:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0, 0.3))  # somewhere inside a write
            proc.kill()
            proc.wait()
        assert out.is_dir(), "the output folder vanished"
        names = {p.name for p in out.iterdir()}
        assert {"snapshots.npz", "summary.json", "experiment.toml", "scalars.csv"} <= names, names
        summary = json.loads((out / "summary.json").read_text())
        np.load(out / "snapshots.npz")["step"]  # readable
        assert summary["spec"]["train"]["seed"] in (0, 5)
        assert load_spec(out / "experiment.toml").train.seed == summary["spec"]["train"]["seed"]
    assert before  # the first set was complete too
    leftovers = [p.name for p in Path(tmp_path).iterdir() if p.name.startswith(".out.")]
    write_run(record, TINY, out)  # a later write removes partial folders of dead writers
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith(".out.partial")], leftovers
