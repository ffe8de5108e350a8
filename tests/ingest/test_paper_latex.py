"""arXiv LaTeX sources: archives built in tmp_path from tests/fixtures/arxiv-latex/."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.paper_latex import LatexPaperImporter

FIXTURE = Path(__file__).parents[1] / "fixtures" / "arxiv-latex"
EXPECTED_TEXT = """\
We argue that recursion is underrated in teaching. It is not.

## Introduction

Programs are small, and most of them are written by people in a hurry. As Section shows, the \
cost grows like [math] when the input doubles: [math] which we call the doubling effect. Café \
owners say “it depends” — and they are right.

### Scope

We only look at small programs.

* one-file scripts;
* notebooks.

## Method

We measured everything twice, with [math] in mind.

## Conclusion

Small programs are worth 100% of our attention; we stand by that."""


def fixture_files() -> dict[str, bytes]:
    return {path.relative_to(FIXTURE).as_posix(): path.read_bytes()
            for path in sorted(FIXTURE.rglob("*")) if path.is_file()}


def add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def make_tar(path: Path, files: dict[str, bytes] | None = None, mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        for name, data in (fixture_files() if files is None else files).items():
            add_bytes(archive, name, data)
    return path


def read_one(location: Path, **kwargs: object):
    result = LatexPaperImporter(**kwargs).read(location)
    assert len(result.documents) == 1
    return result, result.documents[0]


def test_arxiv_tarball_becomes_one_clean_paper(tmp_path: Path) -> None:
    result, doc = read_one(make_tar(tmp_path / "2401.00001.tar.gz"))
    assert doc.raw_text == EXPECTED_TEXT
    assert (doc.platform, doc.kind, doc.is_owner) == ("paper", "paper", True)
    assert doc.title == "Small Programs, Large Ideas"
    assert doc.external_id == "ms.tex"
    assert doc.metadata == {"file": "ms.tex", "authors": ["Ada Example", "Bo Sample"],
                            "coauthored": True, "weight": 0.5}
    assert result.skipped == {"input_outside_source": 1, "input_cycle": 1}


def test_comments_and_commented_out_inputs_stay_out(tmp_path: Path) -> None:
    _result, doc = read_one(make_tar(tmp_path / "src.tar.gz"))
    assert "TODO" not in doc.raw_text and "reviewers" not in doc.raw_text
    assert "UNUSED DRAFT" not in doc.raw_text


def test_math_citations_labels_figures_and_bibliography_are_dropped(tmp_path: Path) -> None:
    _result, doc = read_one(make_tar(tmp_path / "src.tar.gz"))
    for gone in ("T(n)", "O(n", "knuth84", "sec:method", "eq:rec", "Runtime against",
                 "A Cited Paper", "Appendix text", "Proofs", "\\"):
        assert gone not in doc.raw_text, gone
    assert doc.raw_text.count("[math]") == 3


def test_path_escape_in_input_is_refused_not_read(tmp_path: Path) -> None:
    source = tmp_path / "deep" / "er" / "paper"
    shutil.copytree(FIXTURE, source)
    # What `\input{../../etc/passwd}` would reach from the source folder.
    (tmp_path / "deep" / "etc").mkdir()
    (tmp_path / "deep" / "etc" / "passwd").write_text("root:x:0:0:NOT FOR IMPORT")
    result, doc = read_one(source)
    assert "NOT FOR IMPORT" not in doc.raw_text
    assert result.skipped["input_outside_source"] == 1


@pytest.mark.parametrize("member", ["../../etc/passwd", "/etc/passwd", "sections/../../x.tex"])
def test_tar_member_escaping_the_archive_rejects_it(tmp_path: Path, member: str) -> None:
    files = fixture_files() | {member: b"root:x:0:0"}
    archive = make_tar(tmp_path / "evil.tar.gz", files)
    with pytest.raises(ImportFormatError, match="escapes the archive|absolute") as error:
        LatexPaperImporter().read(archive)
    assert error.value.file == str(archive)


def test_links_in_the_tarball_are_skipped_and_never_followed(tmp_path: Path) -> None:
    files = fixture_files()
    files["ms.tex"] = files["ms.tex"].replace(b"\\section{Conclusion}",
                                              b"\\input{sections/link}\n\\section{Conclusion}")
    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in files.items():
            add_bytes(tar, name, data)
        link = tarfile.TarInfo("sections/link.tex")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/hostname"
        tar.addfile(link)
    result, doc = read_one(archive)
    assert doc.raw_text == EXPECTED_TEXT
    assert result.skipped["link_or_special_file"] == 1
    assert result.skipped["input_missing"] == 1


@pytest.mark.parametrize("name, mode", [("src.tgz", "w:gz"), ("src.tar", "w"),
                                        ("src.tar.bz2", "w:bz2")])
def test_other_tar_flavours_read_the_same(tmp_path: Path, name: str, mode: str) -> None:
    _result, doc = read_one(make_tar(tmp_path / name, mode=mode))
    assert doc.raw_text == EXPECTED_TEXT


def test_folder_and_overleaf_zip_read_the_same(tmp_path: Path) -> None:
    _result, from_folder = read_one(FIXTURE)
    archive = tmp_path / "overleaf.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, data in fixture_files().items():
            zipped.writestr(f"Small Programs/{name}", data)
    _result, from_zip = read_one(archive)
    assert from_folder.raw_text == from_zip.raw_text == EXPECTED_TEXT


def test_single_gzipped_tex_file(tmp_path: Path) -> None:
    single = b"\\documentclass{article}\\title{Solo}\\author{Ada Example}\n" \
             b"\\begin{document}\nOne author, one file.\n\\end{document}\n"
    path = tmp_path / "2401.00002"
    path.write_bytes(gzip.compress(single))
    _result, doc = read_one(path, options=ImportOptions(owner_name="Ada"))
    assert (doc.raw_text, doc.title, doc.author) == ("One author, one file.", "Solo", "Ada")
    assert doc.metadata == {"file": "main.tex", "authors": ["Ada Example"]}


def test_main_file_is_the_one_with_documentclass_preferring_ms_tex(tmp_path: Path) -> None:
    files = fixture_files() | {
        "response.tex": b"\\documentclass{letter}\\begin{document}Dear reviewers, "
                        b"a long letter. " * 50 + b"\\end{document}"}
    _result, doc = read_one(make_tar(tmp_path / "src.tar.gz", files))
    assert doc.external_id == "ms.tex"
    files["paper.tex"] = files.pop("ms.tex")
    _result, doc = read_one(make_tar(tmp_path / "renamed.tar.gz", files))
    assert doc.external_id == "response.tex"  # no preferred name: the larger one wins
    assert doc.raw_text.startswith("Dear reviewers")


def test_latin1_source_is_decoded(tmp_path: Path) -> None:
    text = ("\\documentclass{article}\n\\begin{document}\n"
            "Les résultats sont présentés à la fin. Nous espérons qu'ils aideront "
            "les élèves et les enseignants à réfléchir à leur pratique quotidienne.\n"
            "\\end{document}\n")
    _result, doc = read_one(make_tar(tmp_path / "fr.tar.gz", {"ms.tex": text.encode("latin-1")}))
    assert "résultats sont présentés à la fin" in doc.raw_text


def test_missing_main_file_is_an_error_naming_the_archive(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "src.tar.gz", {"sections/intro.tex": b"Just a section."})
    with pytest.raises(ImportFormatError, match="no main .tex file") as error:
        LatexPaperImporter().read(archive)
    assert error.value.file == str(archive)


def test_truncated_tarball_is_an_error_naming_the_file(tmp_path: Path) -> None:
    whole = make_tar(tmp_path / "whole.tar.gz").read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ImportFormatError, match="truncated|decompress") as error:
        LatexPaperImporter().read(truncated)
    assert error.value.file == str(truncated)


def test_size_caps(tmp_path: Path) -> None:
    files = fixture_files() | {"sections/huge.tex": b"%" * 5000}
    result, _doc = read_one(make_tar(tmp_path / "src.tar.gz", files), max_file_bytes=4000)
    assert result.skipped["large_file"] == 1
    with pytest.raises(ImportFormatError, match="exceed"):
        LatexPaperImporter(max_total_bytes=1000).read(make_tar(tmp_path / "src2.tar.gz"))


def test_input_fan_out_bomb_is_stopped(tmp_path: Path) -> None:
    files = {"ms.tex": b"\\documentclass{article}\\begin{document}\\input{a}\\end{document}"}
    for level, name in enumerate("abcdefgh"):
        child = "abcdefghi"[level + 1]
        files[f"{name}.tex"] = (f"\\input{{{child}}}" * 10).encode() if name != "h" else b"x" * 100
    files["i.tex"] = b"leaf"
    # 10^8 inputs of 100 bytes: stopped at the paper cap (384 KB of text), not after expanding
    # up to the archive's byte budget (the fuzzer's 91,000-input case took 6.5 s of CPU).
    with pytest.raises(ImportFormatError, match=r"ms\.tex: .*over 384 KB are not imported") as error:
        LatexPaperImporter().read(make_tar(tmp_path / "bomb.tar.gz", files))
    assert "input files included" in str(error.value)


def test_detect_accepts_latex_sources(tmp_path: Path) -> None:
    importer = LatexPaperImporter()
    single = tmp_path / "single.tex.gz"
    single.write_bytes(gzip.compress(b"\\documentclass{article}\\begin{document}x\\end{document}"))
    archive = tmp_path / "overleaf.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("main.tex", fixture_files()["ms.tex"])
    for source in (make_tar(tmp_path / "a.tar.gz"), make_tar(tmp_path / "b.tar", mode="w"),
                   FIXTURE, FIXTURE / "ms.tex", single, archive, str(FIXTURE)):
        assert importer.detect(source), source


def test_detect_rejects_other_formats(tmp_path: Path) -> None:
    importer = LatexPaperImporter()
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    blog = tmp_path / "blog"
    blog.mkdir()
    (blog / "post.md").write_text("---\ntitle: Hi\n---\nHello.\n")
    x_archive = tmp_path / "x"
    (x_archive / "data").mkdir(parents=True)
    (x_archive / "data" / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps([]))
    no_tex = make_tar(tmp_path / "photos.tar.gz", {"readme.txt": b"holiday photos"})
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project / "docs" / "papers" / "2024")
    for foreign in (pdf, blog, x_archive, no_tex, broken, FIXTURE / "sections" / "intro.tex",
                    project, tmp_path / "missing.tar.gz"):
        assert not importer.detect(foreign), foreign
