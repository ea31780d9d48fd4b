"""Steps 1-4: probe sets, per-layer refusal directions, layer choice, the behaviour-fitted boundary,
and the probe folder that scoring and steering load."""

from .artifact import Probe, check_probe_matches
from .boundary import ZONES, Boundary, zone
from .sets import ProbeSet, load_probe_set
from .step import ProbeResult, ProbeSpec, fit_probe, run_probe

__all__ = ["ZONES", "Boundary", "Probe", "ProbeResult", "ProbeSet", "ProbeSpec", "check_probe_matches",
           "fit_probe", "load_probe_set", "run_probe", "zone"]
