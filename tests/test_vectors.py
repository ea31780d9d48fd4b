"""The llama.cpp control-vector file: an exact round trip, and scaling by block range."""

import numpy as np
import pytest

from rass_lite.errors import InputError
from rass_lite.vectors import ControlVector


def test_save_load_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(3)
    vector = ControlVector({n: rng.standard_normal(64).astype(np.float32) for n in (1, 5, 12)}, "qwen2")
    vector.save(tmp_path / "v.gguf")
    back = ControlVector.load(tmp_path / "v.gguf")
    assert back.model_hint == "qwen2" and sorted(back.directions) == [1, 5, 12] and back.n_embd == 64
    for n, v in vector.directions.items():
        np.testing.assert_array_equal(back.directions[n], v)


def test_scaled_keeps_the_range_and_multiplies():
    vector = ControlVector({n: np.full(4, n, np.float32) for n in range(1, 8)})
    part = vector.scaled(-0.5, (3, 5))
    assert sorted(part.directions) == [3, 4, 5]
    np.testing.assert_array_equal(part.directions[4], np.full(4, -2.0))


def test_a_file_that_is_not_a_control_vector(tmp_path):
    (tmp_path / "x.gguf").write_bytes(b"not a gguf")
    with pytest.raises(InputError, match="not a readable GGUF"):
        ControlVector.load(tmp_path / "x.gguf")
