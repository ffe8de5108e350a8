"""The model loader every in-process backend, the CTranslate2 conversion and training share."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.backends.loading import (LoadOptions, ModelNotFoundError, adapter_folders,
                                      adapter_stack, bundled_smollm2, load_base_model,
                                      load_tokenizer, local_weights, resolve_device)
from llm_twin.errors import InputError
from llm_twin.storage.models import TrainingRun
from tests.conftest import MODEL_CACHE


def _run(adapter_path: Path, stack: list[str] | None = None) -> TrainingRun:
    hyperparameters = {"adapter_stack": stack} if stack is not None else {}
    return TrainingRun(id="dpo-1", kind="dpo", base_model="smollm2", adapter_path=str(adapter_path),
                       hyperparameters=hyperparameters)


def test_a_run_without_a_recorded_stack_has_its_own_adapter():
    assert adapter_stack(_run(Path("/ws/models/sft-a/adapter"))) == ["/ws/models/sft-a/adapter"]


def test_a_missing_adapter_in_the_stack_names_the_run_and_the_folder(tmp_path):
    sft, dpo = tmp_path / "sft" / "adapter", tmp_path / "dpo" / "adapter"
    sft.mkdir(parents=True)
    (sft / "adapter_config.json").write_text("{}")
    with pytest.raises(ModelNotFoundError, match=r"dpo-1.*dpo/adapter has no adapter_config.json"):
        adapter_folders(_run(dpo, [str(sft), str(dpo)]))
    dpo.mkdir(parents=True)
    (dpo / "adapter_config.json").write_text("{}")
    assert adapter_folders(_run(dpo, [str(sft), str(dpo)])) == [sft, dpo]


def test_cuda_without_a_gpu_is_a_settings_error():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(InputError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu"


@pytest.mark.models
def test_a_tokenizer_without_a_chat_template_is_refused(tmp_path):
    cached = local_weights(bundled_smollm2(), MODEL_CACHE).name_or_path
    tokenizer = load_tokenizer(cached)
    assert tokenizer.chat_template and tokenizer.pad_token is not None
    tokenizer.chat_template = None
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "chat_template.jinja").unlink(missing_ok=True)
    with pytest.raises(ModelNotFoundError, match="no chat template"):
        load_tokenizer(str(tmp_path))


@pytest.mark.models
def test_an_unknown_base_model_is_a_model_error_naming_it(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        load_base_model(LoadOptions(cache_dir=MODEL_CACHE, device="cpu"),
                        model=str(tmp_path / "no-such-model"))
