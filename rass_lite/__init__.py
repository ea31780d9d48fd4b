"""rass-lite: find, measure and reduce overrefusal in local GGUF language models (RASS on a CPU).

The pipeline, one subpackage a stage: models (registry, fetch) -> backends (llama.cpp, served,
fake) -> probe (directions, layer, boundary) -> score -> refusal (labels) -> bench (MORBench-lite,
runner, reports); runs records every long step.
"""

__version__ = "0.1.0"
