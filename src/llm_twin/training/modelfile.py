"""An Ollama `Modelfile` for an exported GGUF, and a parser that checks one against Ollama's rules.

The TEMPLATE is the ChatML layout SmolLM2's tokenizer uses, written in Go-template syntax:
`<|im_start|>{role}\\n{content}<|im_end|>\\n` per message, then `<|im_start|>assistant\\n`. Ollama
passes system messages (ours from SYSTEM, or the caller's) as `.System`, so the message loop skips
them to avoid writing the system turn twice.

The parser follows Ollama's own (parser/parser.go): `INSTRUCTION arguments` lines and `#` comments;
a value runs to the first line end at which it is complete: unquoted, `"..."`, or `\"\"\"...\"\"\"`
over several lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm_twin.errors import ExportError

CHATML_MARKER = "<|im_start|>"
STOP_TOKENS = ("<|im_end|>", "<|im_start|>")

CHATML_GO_TEMPLATE = (
    "{{- if .System }}<|im_start|>system\n"
    "{{ .System }}<|im_end|>\n"
    "{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 }}\n"
    '{{- if ne .Role "system" }}<|im_start|>{{ .Role }}\n'
    "{{ .Content }}<|im_end|>\n"
    "{{ end }}\n"
    '{{- if and $last (ne .Role "assistant") }}<|im_start|>assistant\n'
    "{{ end }}\n"
    "{{- end }}"
)

INSTRUCTIONS = {"from", "parameter", "template", "system", "adapter", "license", "message",
                "requires", "draft", "renderer", "parser"}
MESSAGE_ROLES = {"system", "user", "assistant"}
# Ollama's runtime options (api.Options) by value type.
INT_PARAMETERS = {"num_keep", "seed", "num_predict", "top_k", "repeat_last_n", "num_ctx",
                  "num_batch", "num_gpu", "main_gpu", "num_thread"}
FLOAT_PARAMETERS = {"top_p", "min_p", "typical_p", "temperature", "repeat_penalty",
                    "presence_penalty", "frequency_penalty"}
BOOL_PARAMETERS = {"use_mmap", "numa"}
LIST_PARAMETERS = {"stop"}


class ModelfileError(ExportError):
    pass


@dataclass(frozen=True)
class ModelfileCommand:
    name: str        # lower case: "from", "template", or for PARAMETER the parameter's name
    args: str
    line: int
    is_parameter: bool = False


def render_modelfile(gguf_file_name: str, *, system: str, temperature: float, top_p: float,
                     repeat_penalty: float, num_ctx: int | None = None,
                     num_predict: int | None = None, chat_template: str | None = None) -> str:
    """The Modelfile text; `chat_template` (the base's Jinja template) must be ChatML."""
    if chat_template is not None and CHATML_MARKER not in chat_template:
        raise ModelfileError("The Modelfile template is ChatML (<|im_start|>role ...); this model's "
                             "chat template is not, so no Modelfile was written.")
    lines = ["# Ollama Modelfile written by `twin export`. Use: ollama create my-twin -f Modelfile",
             f"FROM ./{gguf_file_name}",
             f'TEMPLATE """{CHATML_GO_TEMPLATE}"""']
    lines += [f'PARAMETER stop "{token}"' for token in STOP_TOKENS]
    lines += [f"PARAMETER temperature {temperature:g}", f"PARAMETER top_p {top_p:g}",
              f"PARAMETER repeat_penalty {repeat_penalty:g}"]
    if num_ctx:
        lines.append(f"PARAMETER num_ctx {num_ctx}")
    if num_predict:
        lines.append(f"PARAMETER num_predict {num_predict}")
    lines.append(f"SYSTEM {_quote(system, 'SYSTEM')}")
    text = "\n".join(lines) + "\n"
    validate_modelfile(text)
    return text


def _quote(value: str, instruction: str) -> str:
    """Triple quotes hold anything except a line that ends in triple quotes (Ollama has no escape)."""
    if any(line.rstrip().endswith('"""') for line in value.splitlines()) or value.endswith('"'):
        raise ModelfileError(f"{instruction} text cannot end a line with a double quote in a Modelfile.")
    return f'"""{value}"""'


def parse_modelfile(text: str) -> list[ModelfileCommand]:
    """Commands in order; raises ModelfileError naming the line for anything Ollama would reject."""
    commands: list[ModelfileCommand] = []
    position, line = 0, 1
    text = text.lstrip("\ufeff")
    while position < len(text):
        char = text[position]
        if char in " \t\r\n":
            line += char == "\n"
            position += 1
            continue
        if char == "#":
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
            continue
        command, position, line = _parse_command(text, position, line)
        commands.append(command)
    if not any(c.name == "from" and not c.is_parameter for c in commands):
        raise ModelfileError("Modelfile has no FROM line.")
    return commands


_NAME = re.compile(r"[A-Za-z]+")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_]+")


def _parse_command(text: str, position: int, line: int) -> tuple[ModelfileCommand, int, int]:
    start_line = line
    name, position = _word(text, position, _NAME, line, "an instruction name")
    name = name.lower()
    if name not in INSTRUCTIONS:
        raise ModelfileError(f"Modelfile line {line}: unknown instruction {name.upper()!r}; Ollama "
                             f"knows {', '.join(sorted(i.upper() for i in INSTRUCTIONS))}.")
    is_parameter = name == "parameter"
    if is_parameter:
        name, position = _word(text, position, _PARAMETER_NAME, line, "a parameter name")
    elif name == "message":
        role, position = _word(text, position, _NAME, line, "a message role")
        if role not in MESSAGE_ROLES:
            raise ModelfileError(f"Modelfile line {line}: message role must be system, user or "
                                 f"assistant, not {role!r}.")
    value, position, line = _value(text, position, line)
    if name == "message" and not is_parameter:
        value = f"{role}: {value}"
    return ModelfileCommand(name, value, start_line, is_parameter), position, line


def _word(text: str, position: int, pattern: re.Pattern, line: int, what: str) -> tuple[str, int]:
    match = pattern.match(text, position)
    end = match.end() if match else position
    if not match or end >= len(text) or text[end] not in " \t":
        raise ModelfileError(f"Modelfile line {line}: expected {what} followed by a space.")
    while end < len(text) and text[end] in " \t":
        end += 1
    return match.group(), end


def _value(text: str, position: int, line: int) -> tuple[str, int, int]:
    """The value ends at the first line end (or the end of the text) where it is complete."""
    search_from = position
    while True:
        end = text.find("\n", search_from)
        end = len(text) if end < 0 else end
        raw = text[position:end].strip()
        unquoted = _unquote(raw)
        if unquoted is not None:
            return unquoted, end, line + text.count("\n", position, end)
        if end >= len(text):
            raise ModelfileError(f"Modelfile line {line}: unterminated quoted value.")
        search_from = end + 1


def _unquote(raw: str) -> str | None:
    if raw.startswith('"""'):
        return raw[3:-3] if len(raw) >= 6 and raw.endswith('"""') else None
    if raw.startswith('"'):
        return raw[1:-1] if len(raw) >= 2 and raw.endswith('"') else None
    return raw


def validate_modelfile(text: str) -> list[ModelfileCommand]:
    """Parse, then check what `ollama create` checks: parameter names and value types, and (our
    convention) FROM first."""
    commands = parse_modelfile(text)
    if commands[0].name != "from" or commands[0].is_parameter:
        raise ModelfileError(f"Modelfile line {commands[0].line}: FROM must come first.")
    for command in commands:
        if command.is_parameter:
            _check_parameter(command)
    return commands


def _check_parameter(command: ModelfileCommand) -> None:
    name, value = command.name, command.args
    where = f"Modelfile line {command.line}: PARAMETER {name}"
    if name in LIST_PARAMETERS:
        return
    if name in INT_PARAMETERS:
        valid = re.fullmatch(r"[+-]?\d+", value) is not None
    elif name in FLOAT_PARAMETERS:
        valid = re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value) is not None
    elif name in BOOL_PARAMETERS:
        valid = value.lower() in {"true", "false"}
    else:
        raise ModelfileError(f"{where} is not an Ollama parameter.")
    if not valid:
        raise ModelfileError(f"{where} has an invalid value {value!r}.")
