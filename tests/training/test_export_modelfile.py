"""The Ollama Modelfile: what we write, and a parser that applies Ollama's rules to it."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from llm_twin.prompts.wording import system_message
from llm_twin.training.modelfile import (CHATML_GO_TEMPLATE, ModelfileError, parse_modelfile,
                                         render_modelfile, validate_modelfile)

SMOLLM2_TEMPLATE = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}")


def written(**overrides) -> str:
    values = dict(system=system_message("Maya Lindqvist"), temperature=0.6, top_p=0.9,
                  repeat_penalty=1.1, num_ctx=2048, num_predict=220, chat_template=SMOLLM2_TEMPLATE)
    values.update(overrides)
    return render_modelfile("twin-sft-1.Q8_0.gguf", **values)


def test_written_modelfile_follows_ollamas_instruction_set():
    commands = validate_modelfile(written())
    assert [(c.name, c.is_parameter) for c in commands][:2] == [("from", False), ("template", False)]
    assert commands[0].args == "./twin-sft-1.Q8_0.gguf"
    assert commands[1].args == CHATML_GO_TEMPLATE and commands[1].args.count("\n") >= 5
    parameters = {(c.name, c.args) for c in commands if c.is_parameter}
    assert {("stop", "<|im_end|>"), ("stop", "<|im_start|>"), ("temperature", "0.6"),
            ("top_p", "0.9"), ("repeat_penalty", "1.1"), ("num_ctx", "2048"),
            ("num_predict", "220")} == parameters
    (system,) = [c.args for c in commands if c.name == "system"]
    assert system == system_message("Maya Lindqvist")


def test_template_renders_each_role_as_chatml_and_opens_the_assistant_turn():
    assert CHATML_GO_TEMPLATE.startswith("{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n")
    assert "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n" in CHATML_GO_TEMPLATE
    assert '(ne .Role "assistant") }}<|im_start|>assistant\n' in CHATML_GO_TEMPLATE
    assert CHATML_GO_TEMPLATE.count("{{") == CHATML_GO_TEMPLATE.count("}}")


def test_parser_reads_comments_quotes_and_multiline_values():
    text = ('# a comment\nfrom ./m.gguf\nSYSTEM "one line with "quotes" inside"\n'
            'template """line one\n  line two\n"""\nPARAMETER stop <|im_end|>\n'
            'MESSAGE user Hello there\nMESSAGE assistant """Hi\nagain"""\n')
    commands = parse_modelfile(text)
    assert [(c.name, c.args, c.line) for c in commands] == [
        ("from", "./m.gguf", 2),
        ("system", 'one line with "quotes" inside', 3),
        ("template", "line one\n  line two\n", 4),
        ("stop", "<|im_end|>", 7),
        ("message", "user: Hello there", 8),
        ("message", "assistant: Hi\nagain", 9),
    ]


@pytest.mark.parametrize(("text", "message"), [
    ("PARAMETER temperature 0.5\n", "no FROM line"),
    ("FROM ./m.gguf\nPROMPT hello\n", "line 2: unknown instruction 'PROMPT'"),
    ("FROM ./m.gguf\nTEMPLATE \"\"\"{{ .Prompt }}\n", "unterminated quoted value"),
    ("FROM ./m.gguf\nSYSTEM \"open\n", "unterminated quoted value"),
    ("FROM ./m.gguf\nPARAMETER temprature 0.5\n", "PARAMETER temprature is not an Ollama parameter"),
    ("FROM ./m.gguf\nPARAMETER temperature warm\n", "invalid value 'warm'"),
    ("FROM ./m.gguf\nPARAMETER num_ctx 2048.5\n", "invalid value '2048.5'"),
    ("FROM ./m.gguf\nMESSAGE tool hi\n", "role must be system, user or assistant"),
    ("FROM\n", "line 1: expected an instruction name"),
    ("SYSTEM hi\nFROM ./m.gguf\n", "FROM must come first"),
])
def test_invalid_modelfiles_are_rejected_with_the_line(text, message):
    with pytest.raises(ModelfileError, match=message.replace("(", r"\(")):
        validate_modelfile(text)


def test_non_chatml_models_and_unquotable_text_get_no_modelfile():
    with pytest.raises(ModelfileError, match="not, so no Modelfile"):
        written(chat_template="{{ bos_token }}[INST] {{ message }} [/INST]")
    with pytest.raises(ModelfileError, match="SYSTEM text"):
        written(system='Quote me: "')


GO_RENDERER = """package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct{ Role, Content string }

func main() {
	var data struct {
		Template, System string
		Messages         []Message
	}
	if err := json.NewDecoder(os.Stdin).Decode(&data); err != nil {
		panic(err)
	}
	tmpl := template.Must(template.New("m").Parse(data.Template))
	values := map[string]any{"System": data.System, "Messages": data.Messages}
	if err := tmpl.Execute(os.Stdout, values); err != nil {
		panic(err)
	}
}
"""


@pytest.mark.skipif(shutil.which("go") is None, reason="Go is not installed (apt-get install golang-go)")
def test_go_text_template_renders_the_same_prompt_as_chatml(tmp_path):
    """Ollama renders TEMPLATE with Go's text/template, system messages as .System and every
    message (system ones included) in .Messages."""
    conversation = [{"role": "system", "content": system_message("Maya")},
                    {"role": "user", "content": "Write about Postgres."},
                    {"role": "assistant", "content": "We kept Postgres.\nHere is why."},
                    {"role": "user", "content": "Shorter, please."}]
    program = tmp_path / "render.go"
    program.write_text(GO_RENDERER)
    data = {"Template": CHATML_GO_TEMPLATE, "System": conversation[0]["content"],
            "Messages": [{"Role": m["role"], "Content": m["content"]} for m in conversation]}
    rendered = subprocess.run(["go", "run", str(program)], input=json.dumps(data), text=True,
                              capture_output=True, check=True, timeout=300).stdout
    chatml = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in conversation)
    assert rendered == chatml + "<|im_start|>assistant\n"
