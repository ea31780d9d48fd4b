"""Wilson intervals and McNemar's exact test against values computed by hand."""

import math

import pytest

from rass_lite.bench.stats import mcnemar_exact, wilson


def test_wilson_against_hand_computed_values():
    # k=8, n=10, z=1.96: centre = (0.8 + 1.9208/10) / 1.38416 = 0.71672; half = 1.96*sqrt(0.016+0.009604)/1.38416 = 0.22656
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4901, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    lo, hi = wilson(0, 20)  # upper = z^2/n / (1 + z^2/n) = 0.19208/1.19208
    assert lo == 0.0 and hi == pytest.approx(0.16113, abs=1e-4)
    assert wilson(0, 0) == (0.0, 0.0)


def test_mcnemar_exact_against_binomial_tail():
    # b=1, c=8: 2 * P(X<=1 | n=9, 1/2) = 2 * (1 + 9) / 512
    assert mcnemar_exact(1, 8) == pytest.approx(20 / 512)
    assert mcnemar_exact(8, 1) == pytest.approx(20 / 512)
    assert mcnemar_exact(5, 5) == 1.0 and mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)
    assert math.isclose(mcnemar_exact(3, 12), 2 * sum(math.comb(15, i) for i in range(4)) / 2**15)
