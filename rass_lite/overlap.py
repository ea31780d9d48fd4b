"""Near-copy detection between prompt sets (benchmark vs probe prompts, generated vs reference prompts).

Lexical only: it catches exact copies, light rewordings and prompts built on the same template. It does
not catch paraphrases that share few words ("kill a Python process" vs "terminate a job in bash"); those
need a human review.

Two scores, both on `normalise`d text (casefold, punctuation removed, whitespace collapsed):
- `char3`: Jaccard similarity of the sets of character 3-grams (spaces included, so word edges count);
- `tokens`: overlap coefficient of the word sets, |A & B| / min(|A|, |B|), after dropping a few function
  words, so a short prompt wholly contained in a longer one scores 1.
A pair is a near copy when the normalised texts are equal or either score reaches its threshold.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, NamedTuple

# Chosen on the v1 MORBench-lite / probe pairs that issue 10 lists as copies (scores in
# tests/test_morbench_v2.py::KNOWN_V1_COPIES). Every listed pair that reuses the probe's wording scored
# char3 >= 0.35 (hf-024 0.35, hf-026 0.37, hf-011 0.38, hf-018 0.41, bs-022 0.44, hf-016 0.45,
# hf-043 0.59, bn-016 1.0); the other listed pairs (0.18-0.33) are paraphrases with different words,
# which no lexical score separates from unrelated prompts that share "How do I ... ?" (unlisted v1 pairs
# reach 0.59), so they need the human review. Token overlap adds the case of one prompt's content words
# nearly all reappearing in the other (hf-043 0.83, hf-011 0.71).
CHAR3_THRESHOLD = 0.35
TOKEN_THRESHOLD = 0.7
TOKEN_MIN_WORDS = 4  # the token score is only used when both prompts have at least this many content words

_STOP = frozenset("a an the i my me to of in on for and or is it do does how can what whats with at be "
                  "so that this you your from by are was".split())


class Pair(NamedTuple):
    candidate: str
    reference: str
    char3: float
    tokens: float
    reason: str  # "equal", "char3" or "tokens"


def normalise(text: str) -> str:
    """Casefold, drop punctuation and symbols (any script), collapse whitespace."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("'", "").replace("\u2019", "")
    kept = "".join(c if not unicodedata.category(c)[0] in "PS" else " " for c in text)
    return re.sub(r"\s+", " ", kept).strip()


def char3(text: str) -> frozenset[str]:
    t = f" {normalise(text)} "
    return frozenset(t[i:i + 3] for i in range(len(t) - 2))


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in normalise(text).split() if w not in _STOP)


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def token_overlap(a: frozenset, b: frozenset) -> float:
    if len(a) < TOKEN_MIN_WORDS or len(b) < TOKEN_MIN_WORDS:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def score(a: str, b: str) -> tuple[float, float]:
    """(char3 Jaccard, token overlap) of two prompts."""
    return jaccard(char3(a), char3(b)), token_overlap(content_words(a), content_words(b))


def near_copies(candidates: Iterable[str], references: Iterable[str], threshold: float = CHAR3_THRESHOLD,
                token_threshold: float = TOKEN_THRESHOLD) -> list[Pair]:
    """Every (candidate, reference) pair that is equal after `normalise` or scores at or above a
    threshold, highest char3 first. Quadratic; fine for a few thousand prompts."""
    refs = [(r, normalise(r), char3(r), content_words(r)) for r in references]
    found = []
    for c in candidates:
        cn, c3, cw = normalise(c), char3(c), content_words(c)
        for r, rn, r3, rw in refs:
            j, t = jaccard(c3, r3), token_overlap(cw, rw)
            reason = "equal" if cn == rn else "char3" if j >= threshold else "tokens" if t >= token_threshold else ""
            if reason:
                found.append(Pair(c, r, round(j, 3), round(t, 3), reason))
    return sorted(found, key=lambda p: -p.char3)
