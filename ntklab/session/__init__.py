"""Headless runs: specs, the snapshot generator, experiment files and exports. No Qt here."""

from ntklab.session.experiment import (
    Experiment,
    InfiniteWidth,
    KernelSpectra,
    RunSpectra,
    Snapshot,
    TrainingDiverged,
    critical_rate,
    snapshot_schedule,
)
from ntklab.session.export import write_run
from ntklab.session.spec import (
    DataSpec,
    ExperimentSpec,
    InfiniteSpec,
    SpecError,
    SpectraSpec,
    TrainSpec,
    dump_spec,
    load_spec,
    save_spec,
    spec_from_dict,
    spec_to_dict,
)

__all__ = [
    "DataSpec", "Experiment", "ExperimentSpec", "InfiniteSpec", "InfiniteWidth", "KernelSpectra", "RunSpectra",
    "Snapshot", "SpecError", "SpectraSpec", "TrainSpec", "TrainingDiverged", "critical_rate", "dump_spec", "load_spec", "save_spec", "snapshot_schedule",
    "spec_from_dict", "spec_to_dict", "write_run",
]
