"""The guide: its pages, presets and plot help are complete, and each page's claims hold on its presets.

Every claim test runs the page's presets headless. The "fast" variant changes only what a run observes
(fewer snapshots, rarer kernel updates, views a claim does not need switched off), never the training
itself; the "shipped" variant (slow) runs the files exactly as the window loads them, and replaces the
fast one when the slow tests run (marker covered_by_slow, tests/conftest.py). Tolerances come
from the theory the page states or from float32 rounding, with the measured values in comments.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from ntklab.core import analytic_kernels
from ntklab.core.data import sign_accuracy
from ntklab.core.spherical import circle_eigenvalues
from ntklab.session import Experiment, SpecError, TrainingDiverged, critical_rate
from ntklab.session.fields import FIELDS
from ntklab.session.guide import (
    PAGES,
    PLOT_HELP,
    list_presets,
    load_preset,
    page,
    plot_help_text,
    preset_description,
    preset_exists,
    preset_path,
)

EPS32 = float(np.finfo(np.float32).eps)
# Presets another branch (sweeps) adds; until they are here their tests skip, naming the file.
SWEEP_PRESETS = {"sweep_width.toml": "model.width", "sweep_compare.toml": "model.width",
                 "sweep_n_train.toml": "data.n_train"}


def _need(name: str) -> None:
    if not preset_exists(name):
        pytest.skip(f"{name}: not in resources/presets yet (the sweeps branch adds it)")


# --- content ---------------------------------------------------------------------------------------


def test_pages_are_complete():
    ids = [p.id for p in PAGES]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z_]+", i) for i in ids)
    for p in PAGES:
        assert p.question.endswith("?"), p.id
        for text in (p.look_at, p.prediction, p.formula):
            assert len(text) > 40, (p.id, text)
        assert p.references and all(r.authors and 1950 < r.year < 2030 and r.title for r in p.references), p.id
        assert p.presets and all(b.label.startswith("Run ") and b.file.endswith(".toml") for b in p.presets), p.id
        assert p.plots and set(p.plots) <= set(PLOT_HELP), (p.id, set(p.plots) - set(PLOT_HELP))
    assert page("edge_of_stability").presets[1].file == "eta_just_above.toml"
    with pytest.raises(ValueError, match="page: 'nope' is not a guide page; use one of start"):
        page("nope")


def test_the_issues_questions_have_pages():
    """The questions issue 14 lists, each by the words that name it."""
    questions = " ".join(p.question for p in PAGES).lower()
    for words in ("its linearization", "kernel constant", "positive definite", "dc/dt", "contain the target",
                  "taylor linearization and the ntk ∞", "edge of stability", "lazy or rich", "random labels",
                  "learn first", "weakly or fully trained"):
        assert words in questions, words


@pytest.mark.parametrize("name", sorted({b.file for p in PAGES for b in p.presets}))
def test_every_page_preset_exists_and_loads(name):
    if name in SWEEP_PRESETS:
        _need(name)
    spec = load_preset(name)
    sweep = getattr(spec, "sweep", None)
    if name in SWEEP_PRESETS:
        assert sweep is not None and sweep.field == SWEEP_PRESETS[name]
    else:
        assert sweep is None


def test_every_preset_is_offered_by_a_page_and_described():
    offered = {b.file for p in PAGES for b in p.presets}
    presets = list_presets()
    assert {p.name for p in presets} - set(SWEEP_PRESETS) == offered - set(SWEEP_PRESETS)
    for p in presets:
        assert p.description.endswith(".") and len(p.description) > 30, p
        assert p.sweep == (p.name in SWEEP_PRESETS), p
        if p.name not in SWEEP_PRESETS:  # the lab's own: the whole first line, short enough for a menu
            first = preset_path(p.name).read_text(encoding="utf-8").splitlines()[0]
            assert first == f"# {p.description}" and len(p.description) <= 140, p.name
    assert preset_description("wide_4096") == preset_description("wide_4096.toml")


def test_preset_files_found_by_name_listed_and_refused_with_clear_messages(tmp_path, monkeypatch):
    """A bundle's resources (sys._MEIPASS): descriptions of several comment lines, a sweep, errors."""
    folder = tmp_path / "resources" / "presets"
    folder.mkdir(parents=True)
    (folder / "b.toml").write_text("# Two lines, e.g. this one, continue\n# here. Then more.\n[model]\nwidth = 8\n",
                                   encoding="utf-8")
    (folder / "a_sweep.toml").write_text("# A sweep.\n[sweep]\nfield = \"model.width\"\nvalues = [8, 16]\n",
                                         encoding="utf-8")
    (folder / "bad.toml").write_text("# Bad.\n[model]\nwidth = 0\n", encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    presets = list_presets()
    assert [(p.name, p.description, p.sweep) for p in presets] == [
        ("a_sweep.toml", "A sweep.", True), ("b.toml", "Two lines, e.g. this one, continue here.", False),
        ("bad.toml", "Bad.", False)]
    assert load_preset("b").model.width == 8
    with pytest.raises(SpecError, match=r"bad\.toml: model\.width: 0 is not valid"):
        load_preset("bad.toml")
    with pytest.raises(SpecError, match=r"preset: 'nope\.toml' is not in .*; use one of a_sweep\.toml, b\.toml"):
        load_preset("nope")
    for name in ("../b.toml", "", ".hidden", "a/b"):
        with pytest.raises(SpecError, match="preset: .* is not valid; give a file name"):
            load_preset(name)
    from ntklab.session import ExperimentSpec

    if not hasattr(ExperimentSpec(), "sweep"):  # before sweeps land: said, not a confusing 'unknown section'
        with pytest.raises(SpecError, match=r"a_sweep\.toml: a sweep preset \(\[sweep\]\)"):
            load_preset("a_sweep.toml")
    else:
        assert load_preset("a_sweep.toml").sweep.field == "model.width"


def test_plot_help_is_complete_and_names_exported_fields():
    for key, h in PLOT_HELP.items():
        assert h.title and h.tab in ("Training", "Spectra", "Sweep") and len(h.definition) > 60, key
        assert h.answers.rstrip(")").endswith(("?", ".")), key
        for name in h.fields:
            assert name in FIELDS, (key, name)
        text = plot_help_text(key)
        assert text.startswith(f"{h.title} ({h.tab} tab)") and h.definition in text
        for name in h.fields:
            assert f"{name} {FIELDS[name][0]}, {FIELDS[name][1]}: {FIELDS[name][2]}" in text
    with pytest.raises(ValueError, match="plot: 'nope' has no help; use one of fit"):
        plot_help_text("nope")


def _stated_eta_crit(name: str) -> float:
    match = re.search(r"η_crit = ([0-9.]+)", preset_path(name).read_text(encoding="utf-8"))
    assert match, f"{name}: the header states no η_crit"
    return float(match.group(1))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in list_presets() if not p.sweep))
def test_stated_eta_crit_is_the_presets(name):
    """Each header's η_crit is ntklab.session.critical_rate of the file, to its 4 printed digits."""
    eta, _ = critical_rate(load_preset(name))
    assert abs(_stated_eta_crit(name) - eta) <= 6e-5 + 2e-4 * eta, (name, eta)


# --- running presets ----------------------------------------------------------------------------------

# What the fast variant observes less of (train.snapshots, kernel_every, views): training is unchanged.
FAST = {
    "narrow_16.toml": dict(train={"snapshots": 20, "kernel_every": 20}, spectra={"enabled": False}),
    "wide_4096.toml": dict(train={"snapshots": 20, "kernel_every": 20}, spectra={"enabled": False}),
    "sphere_modes.toml": dict(train={"snapshots": 25, "kernel_every": 25}, infinite={"enabled": False}),
    "loss_rate_coarse.toml": dict(train={"snapshots": 25}, infinite={"enabled": False}),
    "loss_rate_fine.toml": dict(train={"snapshots": 25}, infinite={"enabled": False}),
    "energy_sin.toml": dict(train={"snapshots": 10, "kernel_every": 10}, infinite={"enabled": False}),
    "energy_random.toml": dict(train={"snapshots": 10, "kernel_every": 10}, infinite={"enabled": False}),
    "eta_below.toml": dict(train={"snapshots": 10, "kernel_every": 10}, infinite={"enabled": False}),
    "eta_just_above.toml": dict(train={"snapshots": 20, "kernel_every": 20}, infinite={"enabled": False}),
    "eta_far_above.toml": dict(train={"snapshots": 10}, infinite={"enabled": False}, spectra={"enabled": False}),
    "alpha_0.01.toml": dict(train={"snapshots": 20, "kernel_every": 20}, infinite={"enabled": False},
                            spectra={"enabled": False}),
    "alpha_100.toml": dict(train={"snapshots": 20, "kernel_every": 20}, infinite={"enabled": False},
                           spectra={"enabled": False}),
    "mup_16.toml": dict(train={"snapshots": 10, "kernel_every": 10}, spectra={"enabled": False}),
    "mup_4096.toml": dict(train={"snapshots": 10, "kernel_every": 10}, spectra={"enabled": False}),
    "digits_random.toml": dict(train={"snapshots": 20, "kernel_every": 20}, infinite={"enabled": False}),
    "digits_true.toml": dict(train={"snapshots": 20, "kernel_every": 20}, infinite={"enabled": False}),
    "circle_frequencies.toml": dict(train={"kernel_every": 200}, infinite={"enabled": False},
                                    spectra={"enabled": False}),
    "readout_only.toml": dict(train={"snapshots": 10, "kernel_every": 10}),
    "train_all.toml": dict(train={"snapshots": 10, "kernel_every": 10}),
}
TRAINING = {"learning_rate", "steps", "seed", "trainable", "precision", "linearization"}
VARIANTS = [pytest.param("fast", marks=pytest.mark.covered_by_slow), pytest.param("shipped", marks=pytest.mark.slow)]


@dataclass(frozen=True)
class Run:
    snaps: list
    error: TrainingDiverged | None

    @property
    def last(self):
        return self.snaps[-1]

    def series(self, name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in self.snaps], np.float64)


@functools.cache
def run_preset(name: str, variant: str) -> Run:
    spec = load_preset(name)
    if variant == "fast":
        changes = FAST[name]
        assert not set(changes.get("train", {})) & TRAINING, f"{name}: the fast variant must not change training"
        spec = spec.with_changes(**changes)
    snaps, error = [], None
    try:
        for snap in Experiment(spec).run():
            snaps.append(snap)
    except TrainingDiverged as exc:
        error = exc
    eta = _stated_eta_crit(name)  # the header's η_crit is the run's (float32 rounding across machines)
    assert abs(snaps[0].eta_crit - eta) <= 6e-5 + 1e-3 * eta, (name, snaps[0].eta_crit)
    return Run(snaps, error)


def _rms(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2)))


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# --- each page's claims ---------------------------------------------------------------------------


@pytest.mark.slow
def test_start_the_default_run_is_in_the_kernel_regime():
    """Width 512: network, linearization and NTK ∞ all fit (MSE 8e-5, 2e-5, 5e-6 of 4.5 at the start) and
    the network stays within RMS 0.06 of its linearization (seen) against an RMS target of 0.7."""
    run = run_preset("default.toml", "shipped")
    first, last = run.snaps[0], run.last
    for name in ("mse_train_net", "mse_train_lin", "mse_train_ntk"):
        assert getattr(last, name) < 1e-3 * first.mse_train_net, name
    assert np.nanmax(run.series("lin_gap")) < 0.15 * np.sqrt(np.mean(last.data.y_grid**2))


@pytest.mark.parametrize("variant", VARIANTS)
def test_linearization_gap_falls_with_width(variant):
    """Lee et al. 2019: sup_t RMS(f − f_lin) = O(width^−½). Widths 16 and 4096 (√256 = 16): seen 0.34 and
    0.033 (ratio 0.10); the issue's bound 0.2, at the run's largest gap and at its end."""
    narrow, wide = run_preset("narrow_16.toml", variant), run_preset("wide_4096.toml", variant)
    assert np.nanmax(wide.series("lin_gap")) < 0.2 * np.nanmax(narrow.series("lin_gap"))
    assert wide.last.lin_gap < 0.2 * narrow.last.lin_gap
    assert 0.1 < narrow.last.lin_gap < 0.4 and wide.last.lin_gap < 0.05  # the page's "about 0.2 … 0.03"


@pytest.mark.parametrize("variant", VARIANTS)
def test_kernel_motion_falls_with_width(variant):
    """The kernel's relative change: tens of percent at width 16 (seen 42%), about 1% at 4096 (1.4%);
    the slope from two widths, −0.61 seen, within the sweeps issue's band for width^−½."""
    narrow, wide = run_preset("narrow_16.toml", variant).last, run_preset("wide_4096.toml", variant).last
    assert narrow.kernel_change > 0.1 and wide.kernel_change < 0.03
    assert -1.1 < _slope([16, 4096], [narrow.kernel_change, wide.kernel_change]) < -0.4


@pytest.mark.parametrize("variant", VARIANTS)
def test_three_answers_agree_at_width_4096_and_part_at_16(variant):
    """At 4096: RMS(f − f_NTK∞) 0.024 and RMS(f_lin − f_NTK∞) 0.018 on the grid, test MSEs 0.0100, 0.0090,
    0.0080 (seen); at 16 the linearization is 0.21 from the NTK ∞ answer. The page's ordering at 16:
    network (0.0027) < NTK ∞ (0.0086) < linearization (0.045) in test MSE."""
    narrow, wide = run_preset("narrow_16.toml", variant).last, run_preset("wide_4096.toml", variant).last
    assert _rms(wide.f_grid_net, wide.f_grid_ntk) < 0.05 and _rms(wide.f_grid_lin, wide.f_grid_ntk) < 0.05
    tests = [wide.mse_test_net, wide.mse_test_lin, wide.mse_test_ntk]
    assert max(tests) < 1.5 * min(tests), tests
    assert _rms(narrow.f_grid_lin, narrow.f_grid_ntk) > 5 * _rms(wide.f_grid_lin, wide.f_grid_ntk)
    assert narrow.mse_test_net < narrow.mse_test_ntk < narrow.mse_test_lin


@pytest.mark.parametrize("variant", VARIANTS)
def test_positive_definite_kernel_and_lambda_min_sets_the_speed(variant):
    """Sphere, width 4096: λ_min of Θ̂₀ far above rounding (0.114 against n·ε·λ_max = 1e-4); every mode of
    the network's residual follows (1 − ηλ_i/n)^step·|r_i(0)| to 1% of ‖r(0)‖ (seen 0.07%); η is below
    2n/(λ_max + λ_min), so the last mode is the slowest, and at the end it holds most of what is left."""
    run = run_preset("sphere_modes.toml", variant)
    first, last = run.snaps[0], run.last
    eig = last.run_spectra.eig_ntk0
    n, eta = len(eig), last.time / last.step
    assert eig[-1] > 100 * n * EPS32 * eig[0]
    assert eta <= 2 * n / (eig[0] + eig[-1])
    factors = np.abs(1 - eta * eig / n)
    assert np.argmax(factors) == n - 1  # the slowest mode is λ_min's
    r0 = np.abs(first.mode_residual)
    for snap in run.snaps:
        predicted = factors**snap.step * r0
        assert np.max(np.abs(np.abs(snap.mode_residual) - predicted)) < 0.01 * np.linalg.norm(r0), snap.step
    r = last.mode_residual
    assert np.sum(r[-3:] ** 2) > 0.9 * np.sum(r**2)  # what is left lies along the smallest eigenvalues


def _rate_gaps(run: Run) -> np.ndarray:
    """measured/predicted − 1 at kernel updates after step 0, with the rounding of each as a second row."""
    out = []
    for s in run.snaps[1:]:
        if np.isfinite(s.loss_rate_predicted) and s.loss_rate_predicted > 0:
            out.append((s.loss_rate_measured / s.loss_rate_predicted - 1, s.loss_rate_rounding / s.loss_rate_predicted))
    return np.array(out).T


@pytest.mark.parametrize("variant", VARIANTS)
def test_loss_rate_identity_holds_to_first_order_in_eta(variant):
    """dC/dt = −rᵀΘ̂r/n²: the measured −ΔC/η lies between 1 and g(2η/η_crit) = ((1 − x)⁻² − 1)/(2x) times
    the prediction (a fixed kernel's discrete step; rounding and 1% of kernel motion added), and the
    median gap shrinks about fourfold from η_crit/5 to η_crit/20 (seen 1.2% and 0.31%: ×3.7; the
    fast variant's 25 snapshots: 1.5% and 0.35%)."""
    medians = []
    for name in ("loss_rate_coarse.toml", "loss_rate_fine.toml"):
        run = run_preset(name, variant)
        x = 2 * run.last.time / run.last.step / run.last.eta_crit
        bound = ((1 - x) ** -2 - 1) / (2 * x) - 1
        gaps, rounding = _rate_gaps(run)
        assert len(gaps) >= 20
        assert np.all(gaps > -rounding - 0.01) and np.all(gaps < bound + rounding + 0.01), (name, gaps)
        medians.append(np.median(gaps))
    assert 2.5 < medians[0] / medians[1] < 6, medians


@pytest.mark.parametrize("variant", VARIANTS)
def test_target_energy_smooth_against_random_labels(variant):
    """sin 2x: 99% of ‖y‖² in the top 4 eigenvectors of Θ̂₀ (seen 0.993), alignment 0.21; random labels:
    23% and 0.089. The random labels are still far from fitted when sin 2x is (MSE 0.62 against 4e-4)."""
    smooth, rough = run_preset("energy_sin.toml", variant).last, run_preset("energy_random.toml", variant).last
    assert smooth.run_spectra.energy_ntk0[3] > 0.95 and rough.run_spectra.energy_ntk0[3] < 0.4
    assert smooth.run_spectra.alignment_ntk0 > 2 * rough.run_spectra.alignment_ntk0
    assert rough.mse_train_net > 100 * smooth.mse_train_net


@pytest.mark.parametrize("variant", VARIANTS)
def test_edge_of_stability_below_just_above_far_above(variant):
    """0.9·η_crit: both converge; 1.5·η_crit: the linearization diverges (step 6 seen), the network's loss
    jumps (4.5 → 50 at step 5) and comes down as λ_max(Θ̂) falls from 78 to 36 < 2n/η = 52; 3·η_crit:
    the run stops with the divergence message (step 6)."""
    below, above, far = (run_preset(f"eta_{v}.toml", variant) for v in ("below", "just_above", "far_above"))
    for run in (below, above):
        assert run.error is None
        n, eta = len(run.last.data.y_train), run.last.time / run.last.step
        assert run.last.mse_train_net < 1e-2 * run.snaps[0].mse_train_net
        assert run.last.spectra.eigvals[0] < 2 * n / eta  # the kernel ends where this η is stable
    assert below.last.lin_diverged_step == -1 and np.isfinite(below.last.mse_train_lin)
    step = above.last.lin_diverged_step
    assert 0 < step < 50 and any(f"The linearization diverged at step {step}" in note for note in above.last.notes)
    n, eta = len(above.last.data.y_train), above.last.time / above.last.step
    assert above.last.run_spectra.eig_ntk0[0] > 2 * n / eta  # it started unstable: the catapult moved it
    early = [s.mse_train_net for s in above.snaps if 0 < s.step <= 50]
    if variant == "shipped":  # snapshots every 5 steps see the jump
        assert max(early) > 3 * above.snaps[0].mse_train_net
    assert far.error is not None and far.snaps
    message = str(far.error)
    assert message.startswith("Training diverged at step") and "η_crit" in message and "train.learning_rate" in message


def _feature(run: Run) -> float:
    return float(run.last.feature_change[0])


@pytest.mark.parametrize("variant", VARIANTS)
def test_lazy_and_rich_by_output_scale_and_by_mup(variant):
    """α = 100: kernel change 0.02% and RMS(f − f_lin) ≤ 0.010 (seen; 0.24 at α = 0.01); α = 0.01: the
    kernel grows ninefold (change 8.5) and the features move by 2.1. μP: feature change 1.01 at width 16 and 0.99 at 4096; the
    NTK parameterization, same widths: 0.33 and 0.024 (falls as width^−½)."""
    rich, lazy = run_preset("alpha_0.01.toml", variant), run_preset("alpha_100.toml", variant)
    assert rich.snaps[0].eta_crit == pytest.approx(lazy.snaps[0].eta_crit, rel=1e-5)  # η_crit does not see α
    assert lazy.last.kernel_change < 0.01 and rich.last.kernel_change > 1.0
    assert np.nanmax(lazy.series("lin_gap")) < 0.1 * np.nanmax(rich.series("lin_gap"))
    assert _feature(rich) > 0.5 and _feature(lazy) < 0.01
    assert rich.last.mse_train_net < 1e-2  # rich, and trained
    mup16, mup4096 = run_preset("mup_16.toml", variant), run_preset("mup_4096.toml", variant)
    assert 0.5 < _feature(mup4096) / _feature(mup16) < 2 and mup4096.last.kernel_change > 0.5
    assert mup4096.last.f_grid_ntk is None and any("not drawn" in note for note in mup4096.last.notes)
    ntk16, ntk4096 = run_preset("narrow_16.toml", variant), run_preset("wide_4096.toml", variant)
    assert _feature(ntk4096) / _feature(ntk16) < 0.2


@pytest.mark.parametrize("variant", VARIANTS)
def test_random_labels_fitted_at_chance_and_true_labels_generalize(variant):
    """Zhang et al. 2017 in the kernel regime, digits, width 2048: random labels reach training MSE 1e-6
    (seen) with test accuracy within 3 standard errors of ½; the standard error counts the 400 test
    points (0.025) and the draw of the 64 labels (the NTK ∞ answer's accuracy over 300 other draws,
    NumPy kernel regression). True labels: 78% (seen). Random labels hold less of ‖y‖² in the top 16
    eigenvectors of Θ̂₀ (0.32 against 0.59 seen) and their loss, relative to its start, stays higher
    at every snapshot (×2.2 at step 20, ×4 at step 100, ×300 at the end, seen)."""
    rand, true = run_preset("digits_random.toml", variant), run_preset("digits_true.toml", variant)
    assert rand.last.mse_train_net < 1e-3 and true.last.mse_train_net < 1e-3
    data = rand.last.data
    spec = load_preset("digits_random.toml")
    k_dd = np.asarray(analytic_kernels(spec.model, data.x_train).ntk, np.float64)
    k_td = np.asarray(analytic_kernels(spec.model, data.x_test, data.x_train).ntk, np.float64)
    smoother = k_td @ np.linalg.inv(k_dd)
    labels = np.random.default_rng(2017).choice([-1.0, 1.0], (len(data.x_train), 300))
    null = [sign_accuracy(smoother @ y, data.y_test) for y in labels.T]
    se = math.hypot(np.std(null), 0.5 / math.sqrt(len(data.y_test)))
    assert abs(rand.last.accuracy_test_net - 0.5) < 3 * se, (rand.last.accuracy_test_net, se)
    assert 0.7 < true.last.accuracy_test_net < 0.86

    assert rand.last.run_spectra.energy_ntk0[15] < true.last.run_spectra.energy_ntk0[15] - 0.15
    relative = [run.series("mse_train_net")[1:] / run.snaps[0].mse_train_net for run in (rand, true)]
    assert np.all(relative[0] > relative[1]) and relative[0][-1] > 30 * relative[1][-1]


def _frequency_residuals(run: Run, frequencies) -> np.ndarray:
    """|frequency-k part of f − y| on the grid's uniform angles (its last point repeats the first), (T, K)."""
    theta = run.last.data.grid_axis[:-1].astype(np.float64)
    out = []
    for s in run.snaps:
        r = (np.asarray(s.f_grid_net, np.float64) - s.data.y_grid)[:-1]
        out.append([2 * abs(np.mean(r * np.exp(-1j * k * theta))) for k in frequencies])
    return np.array(out)


@pytest.mark.parametrize("variant", VARIANTS)
def test_low_frequencies_are_learned_first(variant):
    """The circle, cos θ + cos 2θ + cos 4θ, width 4096: the page's μ_k; the frequency-k residual decays as
    e^{−μ_k t}: fitted rates for k = 2, 4 within 15% of μ_k (seen 8% and 7%), half of cos 4θ learned at
    t ≈ ln 2/μ₄ (36.4 against 34.9 seen), and at t ≈ 5 cos θ is learned, cos 2θ partly, cos 4θ hardly."""
    mu = circle_eigenvalues(load_preset("circle_frequencies.toml").model, 4)
    for k, quoted in ((1, 1.40), (2, 0.22), (4, 0.020)):  # the numbers the page quotes
        assert abs(mu[k] - quoted) < 0.03 * quoted, (k, mu[k])
    run = run_preset("circle_frequencies.toml", variant)
    t = run.series("time")
    res = _frequency_residuals(run, (1, 2, 4))
    np.testing.assert_allclose(res[0], 1.0, rtol=1e-5)  # centered: each starts at its full amplitude
    for j, k in ((1, 2), (2, 4)):
        window = (res[:, j] < 0.9) & (res[:, j] > 0.3)
        assert window.sum() >= 3, k
        rate = -np.polyfit(t[window], np.log(res[window, j]), 1)[0]
        assert abs(rate / mu[k] - 1) < 0.15, (k, rate, mu[k])
    t_half = [t[np.argmax(res[:, j] < 0.5)] for j in range(3)]
    assert t_half[0] <= t_half[1] < t_half[2] and abs(t_half[2] * mu[4] / math.log(2) - 1) < 0.15, t_half
    at5 = res[np.argmin(np.abs(t - 5))]
    assert at5[0] < 0.2 < at5[1] < 0.6 < at5[2], at5


@pytest.mark.parametrize("variant", VARIANTS)
def test_readout_only_is_a_fixed_kernel_and_training_all_is_faster(variant):
    """Readout only: hidden weights, features and kernel do not move at all, and the network is its own
    linearization to float32 rounding; it follows the NNGP-kernel answer (the NTK ∞ curve for
    trainable = readout). All layers: Θ̂₀ ⪰ the readout's part (Weyl: every eigenvalue at least as
    large), a smaller η_crit, and lower training and test errors at the same η and time (seen: train
    6.7e-5 against 5.5e-3, test 0.011 against 0.047)."""
    weak, full = run_preset("readout_only.toml", variant).last, run_preset("train_all.toml", variant).last
    assert np.all(weak.feature_change == 0) and weak.weight_change[0] == 0 and weak.kernel_change == 0
    scale = np.sqrt(np.mean(weak.f_grid_net.astype(np.float64) ** 2))
    assert weak.lin_gap < 100 * EPS32 * scale * len(weak.data.y_train)  # seen 6e-6
    assert _rms(weak.f_grid_net, weak.f_grid_ntk) < 0.05 * scale
    eig_weak, eig_full = weak.run_spectra.eig_ntk0, full.run_spectra.eig_ntk0
    assert np.all(eig_full >= eig_weak - 1e-4 * eig_full[0])
    assert full.eta_crit < weak.eta_crit
    assert full.mse_train_net < 0.1 * weak.mse_train_net and full.mse_test_net < 0.5 * weak.mse_test_net
    assert full.feature_change[0] > 0
