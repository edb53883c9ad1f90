"""Headless runs: specs, the snapshot generator, experiment files and exports. No Qt here."""

from ntklab.session.experiment import (
    Experiment,
    InfiniteWidth,
    KernelSpectra,
    Progress,
    RunSpectra,
    Snapshot,
    TrainingDiverged,
    critical_rate,
    snapshot_schedule,
)
from ntklab.session.atomic import OutputError, check_out_dir
from ntklab.session.export import write_run
from ntklab.session.record import RunRecord
from ntklab.session.resources import ResourceEstimate, check_resources, estimate
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
    "DataSpec", "Experiment", "ExperimentSpec", "InfiniteSpec", "InfiniteWidth", "KernelSpectra", "Progress", "RunSpectra",
    "Snapshot", "SpecError", "SpectraSpec", "TrainSpec", "TrainingDiverged", "critical_rate", "dump_spec", "load_spec", "save_spec", "snapshot_schedule",
    "spec_from_dict", "spec_to_dict", "write_run", "OutputError", "check_out_dir", "RunRecord",
    "ResourceEstimate", "check_resources", "estimate",
]
