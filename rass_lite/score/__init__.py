"""Boundary scores of prompts on a target model, from the model or from a capture file."""

from .capture_file import load_capture, save_capture
from .records import Lookahead, first_token_signal, score_capture_file, score_records, with_scores

__all__ = ["Lookahead", "load_capture", "save_capture", "first_token_signal", "score_capture_file", "score_records", "with_scores"]
