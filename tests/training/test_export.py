"""`twin export` with the real SmolLM2: merged weights, GGUF (F16, Q8_0), Modelfile, adapters.

The GGUF files are re-loaded by transformers' own GGUF reader (which undoes llama.cpp's q/k
permutation) and, when llama-cpp-python is installed, by llama.cpp itself: equal next-token logits
prove the tensor names, the permutation and the copied tokenizer metadata.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from llm_twin.backends.loading import LoadOptions, load_base_model
from llm_twin.config import ensure_workspace, load_settings
from llm_twin.prompts.wording import system_message
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory
from llm_twin.training.export import ExportError, export_model
from llm_twin.training.gguf_export import GGUFExportError, base_gguf_file
from llm_twin.training.modelfile import validate_modelfile
from llm_twin.training.registry import finish_run, get_run, record_run

MODEL_CACHE = Path(tempfile.gettempdir()) / "llm-twin-test-cache"
OWNER = "Maya Lindqvist"
PROMPT = [{"role": "system", "content": system_message(OWNER)},
          {"role": "user", "content": "Write one sentence about Postgres migrations."}]
PROMPT_TEXT = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in PROMPT) \
    + "<|im_start|>assistant\n"

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("export")


@pytest.fixture(scope="module")
def settings(workdir):
    settings = load_settings(workdir / "ws", cache_dir=MODEL_CACHE, owner_name=OWNER)
    ensure_workspace(settings)
    return settings


@pytest.fixture(scope="module")
def base(settings):
    """The source model and tokenizer, loaded the way export loads them."""
    return load_base_model(LoadOptions(cache_dir=MODEL_CACHE, device="cpu"), dtype=torch.float32)


@pytest.fixture(scope="module")
def prompt_ids(base):
    _, tokenizer = base
    assert tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True,
                                         tokenize=False) == PROMPT_TEXT
    return tokenizer(PROMPT_TEXT, return_tensors="pt", add_special_tokens=False)["input_ids"]


@pytest.fixture(scope="module")
def base_export(settings, workdir):
    return export_model("base", settings, workdir / "exports" / "base",
                        formats=("gguf", "modelfile"), gguf_types=("q8_0",),
                        owner=OWNER)


@pytest.fixture(scope="module")
def sessions(settings):
    engine = create_warehouse_engine(settings.resolved_database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def tuned_run(base, sessions, workdir):
    """A finished SFT run whose LoRA adapter is small but non-zero (random A and B)."""
    from peft import LoraConfig, get_peft_model

    model, tokenizer = load_base_model(LoadOptions(cache_dir=MODEL_CACHE, device="cpu"),
                                       dtype=torch.float32)
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=2, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"])
    peft_model = get_peft_model(model, config).eval()
    adapter = workdir / "runs" / "sft-test" / "adapter"
    peft_model.save_pretrained(adapter)
    tokenizer.save_pretrained(adapter)
    with sessions() as session:
        record_run(session, run_id="sft-test", kind="sft", base_model="smollm2", dataset_id="d1",
                   adapter_path=str(adapter), hyperparameters={"r": 4})
        finish_run(session, "sft-test", metrics={})
    return peft_model


@pytest.fixture(scope="module")
def tuned_export(tuned_run, sessions, settings, workdir):
    with sessions() as session:
        run = get_run(session, "sft-test")
        return export_model(run, settings, workdir / "exports" / "sft-test",
                            formats=("merged", "gguf", "modelfile", "adapter"),
                            gguf_types=("f16",), owner=OWNER, session=session)


def next_token_logits(model, ids) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids).logits[0, -1].float()


def load_gguf(folder: Path, file_name: str):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(folder, gguf_file=file_name,
                                                dtype=torch.float32).eval()


# -- the base: GGUF Q8_0 and metadata -------------------------------------------------------------

@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_q8_0_gguf_reloads_close_to_the_source(base, base_export, prompt_ids):
    model, _ = base
    path = base_export.gguf_paths["q8_0"]
    assert path.name == "twin-base.Q8_0.gguf" and path.parent == base_export.out_dir
    reloaded = load_gguf(path.parent, path.name)
    expected, got = next_token_logits(model, prompt_ids), next_token_logits(reloaded, prompt_ids)
    assert got.argmax() == expected.argmax()
    assert torch.corrcoef(torch.stack([got, expected]))[0, 1] > 0.99


@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_gguf_carries_the_base_metadata_over_and_keeps_norms_in_f32(base_export):
    import gguf

    base = gguf.GGUFReader(base_gguf_file("smollm2"))
    exported = gguf.GGUFReader(base_export.gguf_paths["q8_0"])
    ours = {"general.file_type", "general.name"}
    copied = [k for k in base.fields if not k.startswith("GGUF.") and k not in ours]
    assert {"tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type",
            "tokenizer.ggml.pre", "tokenizer.chat_template", "tokenizer.ggml.eos_token_id",
            "llama.rope.freq_base", "llama.attention.head_count_kv"} <= set(copied)
    for key in copied:
        assert exported.fields[key].contents() == base.fields[key].contents(), key
    assert exported.fields["general.file_type"].contents() == gguf.LlamaFileType.MOSTLY_Q8_0
    types = {t.name: t.tensor_type for t in exported.tensors}
    assert "output.weight" not in types  # tied embeddings: llama.cpp reuses token_embd
    assert types["blk.0.attn_norm.weight"] == gguf.GGMLQuantizationType.F32
    assert types["blk.0.attn_q.weight"] == gguf.GGMLQuantizationType.Q8_0
    assert set(types) == {t.name for t in base.tensors}


# -- a fine-tuned run: merged and F16 GGUF -----------------------------------------------------------

@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_merged_and_f16_gguf_exports_match_the_peft_model(base, tuned_run, tuned_export, prompt_ids):
    """The F16 GGUF re-loaded by transformers (which undoes llama.cpp's q/k permutation) gives the
    PEFT model's logits: tensor names, permutation, tied embeddings and hyperparameters are right."""
    from transformers import AutoModelForCausalLM

    model, _ = base
    tuned = next_token_logits(tuned_run, prompt_ids)
    assert (tuned - next_token_logits(model, prompt_ids)).abs().max() > 0.5  # the adapter matters
    merged = AutoModelForCausalLM.from_pretrained(tuned_export.merged_path, dtype=torch.float32)
    torch.testing.assert_close(next_token_logits(merged, prompt_ids), tuned, atol=1e-3, rtol=1e-4)

    path = tuned_export.gguf_paths["f16"]
    assert path.name == "twin-sft-test.F16.gguf"
    from_gguf = next_token_logits(load_gguf(path.parent, path.name), prompt_ids)
    assert (from_gguf - tuned).abs().max() < 0.1  # float16 rounding only
    assert torch.equal(from_gguf.topk(5).indices, tuned.topk(5).indices)


def test_run_export_copies_the_adapter_and_records_paths(tuned_export, sessions):
    (adapter,) = tuned_export.adapter_paths
    assert adapter.name == "1-sft-test"
    assert (adapter / "adapter_config.json").is_file()
    assert (adapter / "adapter_model.safetensors").is_file()
    assert (tuned_export.out_dir / "export.json").is_file()
    assert not tuned_export.out_dir.with_name("sft-test.partial").exists()
    with sessions() as session:
        run = get_run(session, "sft-test")
        assert run.gguf_path == str(tuned_export.gguf_paths["f16"].resolve())
        assert run.merged_path == str(tuned_export.merged_path.resolve())


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed (pip install '.[fast]')")
def test_exported_gguf_runs_in_llama_cpp(tuned_run, tuned_export, base_export, prompt_ids):
    import llama_cpp
    import numpy as np

    # One thread: llama.cpp's threads spin while waiting, which stalls on a busy 2-core machine.

    tuned = llama_cpp.Llama(str(tuned_export.gguf_paths["f16"]), n_ctx=256, logits_all=True,
                            n_threads=1, verbose=False)
    ids = prompt_ids[0].tolist()
    assert tuned.tokenize(PROMPT_TEXT.encode(), add_bos=False, special=True) == ids
    tuned.eval(ids)
    expected = int(next_token_logits(tuned_run, prompt_ids).argmax())
    assert int(np.argmax(tuned.scores[len(ids) - 1])) == expected

    llm = llama_cpp.Llama(str(base_export.gguf_paths["q8_0"]), n_ctx=512, n_threads=1, verbose=False)
    reply = llm.create_chat_completion(messages=PROMPT, max_tokens=24, temperature=0.0)
    text = reply["choices"][0]["message"]["content"]
    assert len(text.split()) >= 3
    assert "<|im_end|>" not in text and "SmolLM" not in text


# -- Modelfile ---------------------------------------------------------------------------------

def test_modelfile_points_at_the_q8_gguf_and_carries_settings(base_export, settings):
    text = base_export.modelfile_path.read_text(encoding="utf-8")
    commands = validate_modelfile(text)
    by_name: dict[str, list[str]] = {}
    for command in commands:
        by_name.setdefault(command.name, []).append(command.args)
    assert by_name["from"] == ["./twin-base.Q8_0.gguf"]
    assert (base_export.out_dir / by_name["from"][0]).is_file()
    assert by_name["stop"] == ["<|im_end|>", "<|im_start|>"]
    assert by_name["temperature"] == [f"{settings.temperature:g}"]
    assert by_name["top_p"] == [f"{settings.top_p:g}"]
    assert by_name["repeat_penalty"] == [f"{settings.repetition_penalty:g}"]
    assert by_name["system"] == [system_message(OWNER)]
    template = by_name["template"][0]
    assert "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n" in template
    assert "\n" in template and '"""' in text  # multi-line, triple-quoted


# -- refusals and errors -------------------------------------------------------------------------

def test_existing_export_is_not_overwritten_without_force(settings, tmp_path):
    out = tmp_path / "exports" / "base"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists; pass --force"):
        export_model("base", settings, out, formats=("gguf",))
    assert (out / "keep.txt").read_text() == "mine"


def test_force_replaces_an_export_and_failures_leave_nothing(tuned_run, sessions, settings, tmp_path):
    out = tmp_path / "sft-test"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with sessions() as session:
        run = get_run(session, "sft-test")
        result = export_model(run, settings, out, formats=("adapter",), force=True)
        assert not (out / "old.txt").exists()
        assert [p.name for p in result.adapter_paths] == ["1-sft-test"]

        record_run(session, run_id="sft-broken", kind="sft", base_model="smollm2", dataset_id="d1",
                   adapter_path=str(tmp_path / "missing"), hyperparameters={})
        finish_run(session, "sft-broken")
        with pytest.raises(ExportError, match="sft-broken.*adapter_config.json"):
            export_model(get_run(session, "sft-broken"), settings, tmp_path / "broken",
                         formats=("adapter",))
    assert not (tmp_path / "broken").exists() and not (tmp_path / "broken.partial").exists()


def test_requests_that_cannot_be_met_are_refused(settings, tmp_path):
    with pytest.raises(ExportError, match="base model has no adapter"):
        export_model("base", settings, tmp_path / "a", formats=("adapter",))
    with pytest.raises(ExportError, match="add gguf"):
        export_model("base", settings, tmp_path / "b", formats=("modelfile",))
    with pytest.raises(ExportError, match="Unknown export format"):
        export_model("base", settings, tmp_path / "c", formats=("onnx",))
    with pytest.raises(GGUFExportError, match="Unknown GGUF type"):
        export_model("base", settings, tmp_path / "d", formats=("gguf",), gguf_types=("q4_k",))
    hf_folder = tmp_path / "hf-model"
    hf_folder.mkdir()
    (hf_folder / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(GGUFExportError, match="needs a llama-architecture GGUF base"):
        base_gguf_file(str(hf_folder))
    hf_settings = load_settings(settings.workspace, cache_dir=MODEL_CACHE,
                                generation_model=str(hf_folder))
    with pytest.raises(GGUFExportError, match="merged/ folder works with any base"):
        export_model("base", hf_settings, tmp_path / "e", formats=("merged", "gguf"))
    assert not any(tmp_path.glob("?*.partial"))


def test_cli_exports_a_run_and_names_an_unknown_one(tuned_run, settings):
    from llm_twin.cli.app import app

    runner = CliRunner()
    workspace = ["--workspace", str(settings.workspace)]
    env = {"TWIN_CACHE_DIR": str(MODEL_CACHE)}
    unknown = runner.invoke(app, [*workspace, "export", "sft-nope"], env=env)
    assert unknown.exit_code == 2
    assert "No trained model 'sft-nope'" in unknown.output and "sft-test" in unknown.output

    done = runner.invoke(app, [*workspace, "export", "sft-test", "--format", "adapter"], env=env)
    assert done.exit_code == 0, done.output
    out = settings.workspace / "exports" / "sft-test"
    assert (out / "adapters" / "1-sft-test" / "adapter_config.json").is_file()
    assert "1-sft-test" in done.output
    again = runner.invoke(app, [*workspace, "export", "sft-test", "--format", "adapter"], env=env)
    assert again.exit_code == 2 and "--force" in again.output


@pytest.mark.slow  # `make test-all`; over a minute on 2 cores
def test_ct2_export_runs_in_ctranslate2_like_the_tuned_model(tuned_run, sessions, settings,
                                                             workdir, prompt_ids):
    """`--format ct2`: the merged run converted (float32, so the numbers match exactly) with its
    tokenizer; CTranslate2 loaded from that folder alone greedily picks the PEFT model's tokens."""
    import ctranslate2
    from transformers import AutoTokenizer

    with sessions() as session:
        result = export_model(get_run(session, "sft-test"), settings, workdir / "exports" / "ct2",
                              formats=("ct2",), ct2_type="float32")
    folder = result.ct2_path
    assert folder == workdir / "exports" / "ct2" / "ct2-float32"
    assert (folder / "model.bin").exists() and (folder / "tokenizer.json").exists()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=False) == PROMPT_TEXT
    generator = ctranslate2.Generator(str(folder), compute_type="float32")
    tokens = tokenizer.convert_ids_to_tokens(prompt_ids[0].tolist())
    ours = generator.generate_batch([tokens], max_length=6, sampling_topk=1,
                                    include_prompt_in_result=False)[0].sequences_ids[0]
    ids = prompt_ids
    expected = []
    with torch.inference_mode():
        for _ in range(len(ours)):
            next_id = tuned_run(ids).logits[0, -1].argmax().item()
            expected.append(next_id)
            ids = torch.cat([ids, torch.tensor([[next_id]])], dim=1)
    assert ours == expected
    with pytest.raises(ExportError, match="Unknown CTranslate2 type 'int4'"):
        export_model("base", settings, workdir / "exports" / "bad", formats=("ct2",), ct2_type="int4")
