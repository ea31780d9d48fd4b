"""rass-lite: find, measure and reduce overrefusal in local GGUF language models (RASS on a CPU)."""

__version__ = "0.1.0"
