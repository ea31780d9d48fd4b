import pytest

from rass_lite.errors import ModelFileError
from rass_lite.models.gguf_info import read_info


def test_info_of_the_default_model(qwen_path):
    info = read_info(qwen_path)
    assert (info.architecture, info.n_layers, info.n_embd) == ("qwen2", 24, 896)
    assert info.quantization == "Q4_K_M" and info.has_chat_template and info.context_length == 32768


def test_info_of_smollm2(smol_path):
    info = read_info(smol_path)
    assert (info.architecture, info.n_layers, info.n_embd, info.quantization) == ("llama", 30, 576, "Q4_1")


def test_not_a_gguf(tmp_path):
    bad = tmp_path / "notes.gguf"
    bad.write_text("hello")
    with pytest.raises(ModelFileError, match="not a GGUF file"):
        read_info(bad)


@pytest.mark.parametrize("keep", [100, 2_000_000, 90_000_000])
def test_truncated_gguf(tmp_path, smol_path, keep):
    cut = tmp_path / "cut.gguf"
    with open(smol_path, "rb") as f:
        cut.write_bytes(f.read(keep))
    with pytest.raises(ModelFileError, match="truncated"):
        read_info(cut)


def test_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        read_info(tmp_path / "nope.gguf")
