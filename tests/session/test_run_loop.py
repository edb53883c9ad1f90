"""The run loop: chunks that stop and pause in time, the two linearizations, precision, divergence."""

import math
import threading
import time

import numpy as np
import pytest

from ntklab.session import Experiment, ExperimentSpec, TrainingDiverged, critical_rate

TINY = ExperimentSpec().with_changes(model={"width": 64}, data={"n_train": 8, "n_test": 20},
                                     train={"steps": 60, "snapshots": 6, "learning_rate": 0.1})


@pytest.mark.parametrize("precision,rtol,alpha,centered", [("float64", 1e-9, 1.0, False), ("float32", 3e-4, 1.0, False),
                                                            ("float64", 1e-9, 10.0, True), ("float64", 1e-9, 0.1, False)])
def test_function_space_linearization_equals_parameter_space(precision, rtol, alpha, centered):
    """f_lin trained as f(θ0) + Θ̂₀(x, X)·b equals the JVP-trained Taylor model: θ − θ0 stays in the
    row space of J(θ0), so the two are the same model; they may differ only by rounding (float32:
    ~n·ε·κ over the run)."""
    spec = TINY.with_changes(model={"activation": "tanh", "output_scale": alpha, "centered": centered},
                             train={"precision": precision, "steps": 300, "snapshots": 3})
    fun = list(Experiment(spec).run())
    par = list(Experiment(spec.with_changes(train={"linearization": "parameter"})).run())
    for a, b in zip(fun, par):
        scale = np.abs(b.f_grid_lin).max()
        np.testing.assert_allclose(a.f_grid_lin, b.f_grid_lin, rtol=0, atol=rtol * scale)
        assert a.mse_train_lin == pytest.approx(b.mse_train_lin, rel=max(rtol * 100, 1e-7), abs=1e-12)
        np.testing.assert_array_equal(a.f_grid_net, b.f_grid_net)  # the network does not care
    assert fun[-1].mse_train_lin < 0.2 * fun[0].mse_train_lin  # and it trained


def _stop_after(seconds: float):
    """A checkpoint that asks to stop ``seconds`` after the run's first training chunk; records when."""
    state = {"first": None, "asked": None, "calls": []}

    def checkpoint(progress) -> bool:
        now = time.perf_counter()
        state["calls"].append((now, progress.phase))
        if progress.phase == "training" and state["first"] is None:
            state["first"] = now
        if state["first"] is not None and now - state["first"] > seconds:
            state["asked"] = state["asked"] or now
            return True
        return False

    return checkpoint, state


@pytest.mark.timing
def test_stop_is_seen_within_a_chunk_even_with_one_long_snapshot_interval():
    spec = TINY.with_changes(model={"width": 256}, train={"steps": 100_000_000, "snapshots": 1})
    checkpoint, state = _stop_after(0.6)
    snaps = list(Experiment(spec).run(checkpoint))
    ended = time.perf_counter()
    assert ended - state["asked"] < 0.5
    assert [s.step for s in snaps][0] == 0 and 0 < snaps[-1].step < 100_000_000  # what was computed
    training = [t for t, phase in state["calls"] if phase == "training"]
    assert max(np.diff(training)) < 0.4  # a checkpoint at least every ~0.15 s of compute


def test_pause_blocks_the_run_between_chunks():
    spec = TINY.with_changes(train={"steps": 100_000_000, "snapshots": 1})
    resume = threading.Event()
    seen = []

    def checkpoint(progress):
        seen.append(progress.step)
        if len(seen) == 5:
            resume.wait(10)  # paused here
        return len(seen) > 6

    t = threading.Thread(target=lambda: list(Experiment(spec).run(checkpoint)))
    t.start()
    deadline = time.monotonic() + 120
    while len(seen) < 5 and time.monotonic() < deadline:  # compiling first
        time.sleep(0.05)
    paused_at = len(seen)
    time.sleep(0.5)
    assert len(seen) == paused_at == 5  # nothing ran while paused
    resume.set()
    t.join(10)
    assert not t.is_alive() and len(seen) == 7


def test_same_initial_network_in_both_precisions():
    a = next(Experiment(TINY).run())
    b = next(Experiment(TINY.with_changes(train={"precision": "float64"})).run())
    assert a.precision == "float32" and b.precision == "float64"
    np.testing.assert_allclose(a.f_grid_net, b.f_grid_net, rtol=0, atol=2e-6 * np.abs(b.f_grid_net).max())
    assert a.eta_crit == pytest.approx(b.eta_crit, rel=1e-5)


def test_the_network_survives_its_diverged_linearization():
    """Width 32 at η = 1.5·η_crit: the linearization, with its kernel fixed, must diverge; the network
    moves its kernel (Lewkowycz et al. 2020's catapult) and converges."""
    base = ExperimentSpec().with_changes(model={"width": 32}, train={"steps": 1000, "snapshots": 20})
    eta, _ = critical_rate(base)
    snaps = list(Experiment(base.with_changes(train={"learning_rate": 1.5 * eta})).run())
    last = snaps[-1]
    assert last.step == 1000 and last.mse_train_net < 1e-2 * snaps[0].mse_train_net
    s = last.lin_diverged_step
    assert 0 < s < 1000
    after = [x for x in snaps if x.step > s]
    assert after and all(math.isnan(x.mse_train_lin) and np.all(np.isnan(x.f_grid_lin)) for x in after)
    assert all(np.isfinite(x.mse_train_lin) for x in snaps if x.step < s)
    assert any("linearization diverged at step" in n and "catapult" in n for n in last.notes)
    assert last.kernel_change > 0.1  # the kernel moved


def test_a_diverging_network_shows_the_steps_it_made():
    spec = ExperimentSpec().with_changes(model={"width": 64}, train={"learning_rate": 5.0, "steps": 2000})
    snaps = []
    with pytest.raises(TrainingDiverged, match=r"Training diverged at step (\d+).*learning rate 5 is likely above"):
        for s in Experiment(spec).run():
            snaps.append(s)
    assert len(snaps) >= 3 and snaps[-1].step > 0
    assert all(np.isfinite(s.mse_train_net) for s in snaps)


def test_non_finite_data_is_a_data_problem():
    from ntklab.session import SpecError

    spec = TINY.with_changes(data={"source": "expression", "expression": "exp(100*x)"})
    with pytest.raises(SpecError, match=r"data: the training targets are not finite in float32 .*data.expression"):
        next(Experiment(spec).run())
