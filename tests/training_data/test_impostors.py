"""The impostor-folder loader shared by training metrics and `twin eval`: what it reads, how it
cuts texts like the owner's, and the errors for folders it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_twin.training_data.impostors import (ImpostorFolderError, impostor_units,
                                              load_impostor_texts)

NOTE = "Today I learned that {n} can be done in one line with a small shell trick."


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_txt_only_folder_is_read(tmp_path):
    for n in range(3):
        _write(tmp_path, f"note-{n}.txt", NOTE.format(n=n) + "\n")
    texts = load_impostor_texts(tmp_path)
    assert sorted(t.text for t in texts) == sorted(NOTE.format(n=n) for n in range(3))
    assert all(t.title is None and (t.platform, t.kind) == ("blog", "article") for t in texts)


def test_front_matter_is_removed_and_its_title_platform_kind_kept(tmp_path):
    _write(tmp_path, "a.md", "---\ntitle: Splits\nplatform: x\nkind: post\n---\n\n" + NOTE.format(n=1))
    _write(tmp_path, "sub/b.markdown", "---\ntitle: Diffs\nkind: nonsense\n---\n" + NOTE.format(n=2))
    _write(tmp_path, "c.md", "---\ntitle: [unclosed\n---\n" + NOTE.format(n=3))  # malformed YAML
    by_name = {t.path.name: t for t in load_impostor_texts(tmp_path)}
    assert by_name["a.md"].text == NOTE.format(n=1)
    assert (by_name["a.md"].title, by_name["a.md"].platform, by_name["a.md"].kind) == ("Splits", "x", "post")
    assert by_name["b.markdown"].kind == "article"  # unknown kind: the importer's default
    assert by_name["c.md"].text.startswith("---")  # the whole file, not lost


def test_limit_and_seed_give_a_fixed_sample(tmp_path):
    for n in range(10):
        _write(tmp_path, f"{n}.md", NOTE.format(n=n))
    first = [t.path for t in load_impostor_texts(tmp_path, limit=4, seed=1)]
    assert len(first) == 4 and first == [t.path for t in load_impostor_texts(tmp_path, limit=4, seed=1)]
    assert len(load_impostor_texts(tmp_path, limit=50)) == 10


def test_missing_folder_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(ImpostorFolderError, match="does not exist") as error:
        load_impostor_texts(missing)
    assert str(missing) in str(error.value)
    file = _write(tmp_path, "single.md", NOTE.format(n=1))
    with pytest.raises(ImpostorFolderError, match="is a file, not a folder"):
        load_impostor_texts(file)


def test_folder_without_usable_texts_says_what_it_found(tmp_path):
    _write(tmp_path, "posts.json", "[]")
    _write(tmp_path, "posts2.json", "[]")
    _write(tmp_path, "index.html", "<p>hi</p>")
    _write(tmp_path, "empty.md", "---\ntitle: Nothing\n---\n\n   \n")
    _write(tmp_path, ".hidden/secret.md", NOTE.format(n=1))  # hidden folders are not read
    with pytest.raises(ImpostorFolderError) as error:
        load_impostor_texts(tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and "fewer than 2 usable texts" in message
    assert "1 .md/.markdown/.txt file(s), 1 of them empty" in message
    assert "2 .json" in message and "1 .html" in message
    assert isinstance(error.value, ValueError)  # the CLI prints ValueErrors as one line


def test_one_text_is_not_enough(tmp_path):
    _write(tmp_path, "only.txt", NOTE.format(n=1))
    with pytest.raises(ImpostorFolderError, match="found 1 .md/.markdown/.txt file"):
        load_impostor_texts(tmp_path)


def test_units_are_cut_and_filtered_like_the_owners(tmp_path):
    paragraph = "A paragraph about caches and why they go stale when nobody watches them. " * 6
    long_body = "\n\n".join(f"## Part {i}\n\n{paragraph.strip()}" for i in range(8))
    _write(tmp_path, "long.md", "---\ntitle: Caches\n---\n\n" + long_body)
    _write(tmp_path, "short.md", "Tiny.")  # under the article minimum: dropped like an owner's
    _write(tmp_path, "note.md", NOTE.format(n=1))
    texts = load_impostor_texts(tmp_path)
    units = impostor_units(texts)
    long_units = [u for u in units if u.title == "Caches"]
    assert len(long_units) > 1 and all(u.sections == len(long_units) for u in long_units)
    assert all(len(u.text) <= 2000 and u.text in long_body for u in long_units)
    assert all("Tiny." != u.text for u in units)
    assert any(u.text == NOTE.format(n=1) for u in units)
