"""Selection on synthetic vectors against brute-force computations: band, near-duplicates, quotas, MMR."""

import itertools

import numpy as np
import pytest

from rass_lite.errors import InputError
from rass_lite.probe.behaviour import logit
from rass_lite.select.band import check_band, in_band
from rass_lite.select.diversity import drop_near_duplicates, mmr_select, quotas


def test_band_and_logit():
    scores = np.array([-3.0, -1.0, 0.0, 3.9, 4.0, 4.1])
    assert in_band(scores, (-1, 4)).tolist() == [False, True, True, True, True, False]
    assert logit(0.5) == pytest.approx(0.0) and logit(0.9) == pytest.approx(np.log(9))
    with pytest.raises(InputError, match="low end must be below"):
        check_band(2, 2)


def brute_duplicates(texts, states, relevance, cosine):
    u = states / np.linalg.norm(states, axis=1, keepdims=True)
    kept = []
    for i in sorted(range(len(texts)), key=lambda i: (-relevance[i], i)):
        norm = "".join(c for c in texts[i].casefold() if c.isalnum())
        if any("".join(c for c in texts[k].casefold() if c.isalnum()) == norm or u[k] @ u[i] >= cosine for k in kept):
            continue
        kept.append(i)
    return kept


def test_near_duplicates_equal_brute_force():
    rng = np.random.default_rng(1)
    base = rng.standard_normal((12, 16))
    states = np.concatenate([base, base[:4] + 1e-3 * rng.standard_normal((4, 16))])
    texts = [f"prompt {i}" for i in range(12)] + ["Prompt 0!", "other a", "other b", "other c"]
    relevance = rng.random(16)
    kept = drop_near_duplicates(texts, states, relevance, 0.98)
    assert kept == brute_duplicates(texts, states, relevance, 0.98)
    assert len(kept) == 12  # each near-copy lost to its more relevant twin


def test_quotas_share_slots_evenly_and_spill_over():
    groups = ["en/a"] * 10 + ["en/b"] * 2 + ["zh/a"] * 10
    share = quotas(groups, 12)
    assert share == {"en/a": 5, "en/b": 2, "zh/a": 5}
    assert sum(quotas(groups, 100).values()) == 22


def brute_mmr(states, relevance, groups, n, lam):
    u = states / np.linalg.norm(states, axis=1, keepdims=True)
    rel = (relevance - relevance.min()) / (relevance.max() - relevance.min())
    room = quotas(groups, n)
    chosen = []
    for _ in range(min(n, len(groups))):
        best, best_value = None, -np.inf
        for i in range(len(groups)):
            if i in chosen or room[groups[i]] == 0:
                continue
            penalty = max((u[i] @ u[j] for j in chosen), default=0.0)
            value = lam * rel[i] - (1 - lam) * penalty
            if value > best_value:
                best, best_value = i, value
        chosen.append(best)
        room[groups[best]] -= 1
    return chosen


@pytest.mark.parametrize("seed, n", [(0, 5), (1, 9), (2, 20)])
def test_mmr_with_quotas_equals_brute_force(seed, n):
    rng = np.random.default_rng(seed)
    states = rng.standard_normal((20, 8))
    relevance = rng.random(20)
    groups = [g for g, k in (("en/x", 8), ("en/y", 3), ("de/x", 9)) for _ in range(k)]
    assert mmr_select(states, relevance, groups, n, 0.5) == brute_mmr(states, relevance, groups, n, 0.5)


def test_mmr_prefers_a_distant_candidate_over_a_close_copy():
    states = np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0]])
    relevance = np.array([1.0, 0.95, 0.9])
    assert mmr_select(states, relevance, ["g"] * 3, 2) == [0, 2]
    # ...and without the diversity term the copy would win
    assert mmr_select(states, relevance, ["g"] * 3, 2, lam=1.0) == [0, 1]
    assert list(itertools.islice(mmr_select(states, relevance, ["g"] * 3, 3), 3)) == [0, 2, 1]
