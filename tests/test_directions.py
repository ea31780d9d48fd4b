"""The numpy core on synthetic data with a known answer (no model)."""

import numpy as np
import pytest

from rass_lite.probe.boundary import Boundary, fit_boundary, fit_logistic, zone
from rass_lite.probe.directions import (LayerScore, auroc, choose_layer, cohens_d, difference_of_means,
                                  eligible_layers, project, score_layers, unit)


def clusters(seed=0, n=60, d=16, layers=6, shift=4.0):
    """Harmful = harmless + shift along e_0 on layers >= 2 only."""
    rng = np.random.default_rng(seed)
    harmless = rng.standard_normal((n, layers, d)).astype(np.float32)
    harmful = rng.standard_normal((n, layers, d)).astype(np.float32)
    harmful[:, 2:, 0] += shift
    return harmful, harmless


def test_difference_of_means_recovers_the_planted_direction():
    harmful, harmless = clusters()
    directions = difference_of_means(harmful, harmless)
    assert directions.shape == (6, 16)
    u = unit(directions)
    assert abs(u[4, 0]) > 0.95 and u[4, 0] > 0  # points toward harmful (refusal)
    assert np.linalg.norm(directions[4]) == pytest.approx(4.0, abs=0.5)


def test_auroc_and_cohens_d_by_hand():
    assert auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auroc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auroc(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 0.5
    assert auroc(np.array([2.0]), np.array([2.0])) == 0.5  # ties count half
    # means 2 and 0, both sample variances 2 -> pooled sd sqrt(2)
    assert cohens_d(np.array([1.0, 3.0]), np.array([-1.0, 1.0])) == pytest.approx(2 / np.sqrt(2))


def test_layer_scores_and_choice():
    harmful, harmless = clusters()
    scores = score_layers(difference_of_means(harmful[:40], harmless[:40]), harmful[40:], harmless[40:])
    assert [s.eligible for s in scores] == [False, False, True, True, True, False]  # 6 layers: skip 0-1 and last 20 %
    assert all(s.auroc > 0.95 for s in scores[2:]) and scores[0].auroc < 0.8
    assert choose_layer(scores).layer in (2, 3, 4)
    assert list(eligible_layers(24)) == list(range(2, 20))


def test_choice_ties_go_to_behaviour_then_earlier():
    s = [LayerScore(i, 1.0, 5.0, 1.0, True) for i in range(2, 6)]
    assert choose_layer(s).layer == 2
    s[2] = LayerScore(4, 1.0, 5.0, 1.0, True, behaviour_auroc=0.9)
    assert choose_layer(s).layer == 4
    s[3] = LayerScore(5, 0.9991, 5.0, 1.0, True, behaviour_auroc=0.95)  # rounds to 0.999 < 1.000: not a tie
    assert choose_layer(s).layer == 4


def test_logistic_recovers_a_known_boundary():
    rng = np.random.default_rng(1)
    x = rng.uniform(-6, 6, 4000)
    y = rng.uniform(size=x.size) < 1 / (1 + np.exp(-(1.5 * x - 3.0)))
    slope, intercept = fit_logistic(x, y, l2=1e-6)
    assert slope == pytest.approx(1.5, rel=0.1) and intercept == pytest.approx(-3.0, rel=0.15)
    boundary = Boundary(slope, intercept, "logistic")
    assert boundary.threshold == pytest.approx(2.0, abs=0.15)
    assert boundary.p_refuse(boundary.threshold) == pytest.approx(0.5)
    assert boundary.score(boundary.threshold) == pytest.approx(0.0, abs=1e-9)


def test_fit_boundary_falls_back_to_midpoint_without_enough_refusals():
    harmful_proj, harmless_proj = np.array([4.0, 6.0]), np.array([0.0, 2.0])
    proj = np.concatenate([harmful_proj, harmless_proj])
    b = fit_boundary(proj, np.array([True, False, False, False]), harmful_proj, harmless_proj)
    assert b.method == "midpoint" and b.threshold == pytest.approx(3.0)
    assert b.score(5.0) == pytest.approx(2 / np.sqrt(2))  # (5 - 3) / pooled sd
    b = fit_boundary(proj, None, harmful_proj, harmless_proj)
    assert b.method == "midpoint"


def test_zones():
    assert [zone(s) for s in (-3, -1, 0, 0.5, 1, 1.01)] == ["comply", "boundary", "boundary", "boundary", "boundary", "refuse"]
    assert zone(1.5, band=2) == "boundary"


def test_projection_sign():
    assert project(np.array([[1.0, 0.0], [-2.0, 0.0]]), np.array([1.0, 0.0])).tolist() == [1.0, -2.0]


def test_layer_choice_uses_every_language():
    """English alone separates best on layer 2, German only on layer 4 (and weakly on 2): the worst
    language's AUROC picks layer 4, where every language separates; the direction is the mean of the
    languages' differences of means."""
    from rass_lite.probe.directions import difference_of_means_by_language

    rng = np.random.default_rng(3)
    n, layers, d = 60, 6, 16
    states, is_h, langs = [], [], []
    for lang, shifts in (("en", {2: 6.0, 3: 2.0, 4: 2.0}), ("de", {2: 0.2, 3: 0.5, 4: 3.0})):
        for harmful in (True, False):
            x = rng.standard_normal((n, layers, d)).astype(np.float32)
            if harmful:
                for il, s in shifts.items():
                    x[:, il, 0] += s
            states.append(x)
            is_h += [harmful] * n
            langs += [lang] * n
    hidden, is_h, langs = np.concatenate(states), np.array(is_h), np.array(langs)
    train = np.tile(np.arange(n) < 40, 4)
    directions = difference_of_means_by_language(hidden[train], is_h[train], langs[train])
    assert directions[4, 0] == pytest.approx(np.mean([2.0, 3.0]), abs=0.5)
    val = ~train
    en_only = score_layers(directions, hidden[val & is_h & (langs == "en")], hidden[val & ~is_h & (langs == "en")])
    assert choose_layer(en_only).layer == 2
    both = score_layers(directions, hidden[val & is_h], hidden[val & ~is_h], langs[val & is_h], langs[val & ~is_h])
    chosen = choose_layer(both)
    assert chosen.layer == 4 and set(chosen.per_language) == {"en", "de"}
    assert chosen.auroc == min(chosen.per_language.values())


def test_behaviour_score_combines_projection_and_first_token():
    """Refusals planted from both signals: the fit recovers positive weights for each, and the
    combined score ranks refusals better than either alone."""
    from rass_lite.probe.behaviour import fit_behaviour_score, logit

    rng = np.random.default_rng(4)
    proj = rng.normal(0, 2, 3000)
    p_first = 1 / (1 + np.exp(-rng.normal(0, 2, 3000)))
    refused = rng.uniform(size=3000) < 1 / (1 + np.exp(-(1.0 * proj + 1.0 * logit(p_first) - 0.5)))
    b = fit_behaviour_score(proj, p_first, refused)
    assert b.w_projection == pytest.approx(1.0, abs=0.2) and b.w_first_token == pytest.approx(1.0, abs=0.2)
    combined = auroc(b.score(proj, p_first)[refused], b.score(proj, p_first)[~refused])
    assert combined > auroc(proj[refused], proj[~refused]) + 0.03
    assert combined > auroc(p_first[refused], p_first[~refused]) + 0.03
    assert fit_behaviour_score(proj[:20], p_first[:20], np.arange(20) < 2) is None  # too few refusals


def test_first_token_weights_follow_the_models_own_answers():
    """A token that opened refusals weighs its smoothed refusal share; a marker opener the answers
    never used keeps the prior; a token that opened only answers weighs nothing."""
    from rass_lite.backends.fake import FakeBackend
    from rass_lite.refusal.first_token import OPENER_PRIOR, PRIOR_WEIGHT, learn_weights, refusal_token_ids

    fake = FakeBackend()
    responses = ["Hmm, das mache ich nicht.", "Hmm, dabei helfe ich nicht.", "Hmm, ja: so geht es.", "Sure, here it is."]
    w = dict(zip(*learn_weights(fake, responses, [True, True, False, False], ["de"]).as_dict().values()))
    hmm, sure = fake.tokens_of("Hmm,")[0], fake.tokens_of("Sure,")[0]
    assert w[hmm] == pytest.approx((2 + 0) / (3 + PRIOR_WEIGHT))  # "Hmm," is no marker opener: prior 0
    assert sure not in w
    unused = [t for t in refusal_token_ids(fake, "de") if t != hmm]
    assert unused and all(w[t] == pytest.approx(OPENER_PRIOR) for t in unused)
