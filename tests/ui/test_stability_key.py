"""The window's η_crit estimate is redone when a setting it depends on changes."""

from ntklab.session import ExperimentSpec, critical_rate
from ntklab.ui.controller import _stability_key


def _with_train(spec, **changes):
    return spec.with_changes(train=changes)


def test_training_the_readout_only_changes_eta_crit_and_its_cache_key():
    spec = ExperimentSpec()
    readout = _with_train(spec, trainable="readout")
    # Θ_readout = Θ − (the hidden layers' PSD terms) ≤ Θ: a smaller λ_max, a larger η_crit = 2n/λ_max
    assert critical_rate(readout)[0] > 1.2 * critical_rate(spec)[0]
    assert _stability_key(readout) != _stability_key(spec)
    assert _stability_key(_with_train(spec, precision="float64")) != _stability_key(spec)
    assert _stability_key(_with_train(spec, learning_rate=spec.train.learning_rate / 2)) == _stability_key(spec)
