"""Refusal detection for model answers (rule-based labelling lives in ``rules``).

OUTCOMES are the three gold/predicted labels (XSTest's classes); ``is_refused`` is
the one shared definition of "the model refused" used for refusal rates.
"""

OUTCOMES = ("comply", "partial", "refuse")


def is_refused(label: str) -> bool:
    """True for a full or partial refusal ("refuse" or "partial")."""
    return label in ("refuse", "partial")


__all__ = ["OUTCOMES", "is_refused"]
