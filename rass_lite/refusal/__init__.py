"""Refusal detection for model answers (rule-based labelling lives in ``rules``)."""
