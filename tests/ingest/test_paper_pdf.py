"""PDF papers: built in tmp_path by a tiny PDF writer (pypdf reads text but cannot typeset it)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pypdf
import pytest

from llm_twin.ingest.base import ImportFormatError, ImportOptions
from llm_twin.ingest.formats.paper_pdf import PdfPaperImporter

Line = tuple[float, float, float, str]  # x, y, font size, text
HEADER = "Journal of Synthetic Results, Vol. 3"
BODY_SIZE = 11
LEADING = 14


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[Line]], info: dict[str, str] | None = None) -> bytes:
    """A valid PDF 1.4: Helvetica text placed line by line, with an optional info dictionary."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog, page_tree = add(b""), add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
               b"/Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        stream = "\n".join(f"BT /F1 {size} Tf 1 0 0 1 {x} {y} Tm ({_escape(text)}) Tj ET"
                           for x, y, size, text in lines).encode("cp1252")
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        kids.append(add(f"<< /Type /Page /Parent {page_tree} 0 R /MediaBox [0 0 612 792] "
                        f"/Resources << /Font << /F1 {font} 0 R >> >> "
                        f"/Contents {content} 0 R >>".encode()))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {page_tree} 0 R >>".encode()
    objects[page_tree - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                              f"/Count {len(kids)} >>").encode()
    info_entry = ""
    if info:
        entries = " ".join(f"/{key} ({_escape(value)})" for key, value in info.items())
        info_entry = f" /Info {add(f'<< {entries} >>'.encode('cp1252'))} 0 R"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R{info_entry} >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


def body_page(number: int, body: list[str | None], *, top: float = 700) -> list[Line]:
    """A page with a running header, body lines (None: a blank line; a leading '>': indented)
    and a page number footer."""
    lines: list[Line] = [(72, 760, 9, HEADER)]
    y = top
    for text in body:
        if text is None:
            y -= LEADING
            continue
        indented = text.startswith(">")
        lines.append((90 if indented else 72, y, BODY_SIZE, text.lstrip(">")))
        y -= LEADING
    lines.append((300, 40, 9, str(number)))
    return lines


TITLE_LINE: Line = (72, 740, 18, "On Recursion in Small Programs")
PAPER_PAGES = [
    [TITLE_LINE] + body_page(1, [
        "We study how small programs grow, and how recur-",
        "sion shapes them. The well-known result holds for non-",
        "Euclidean spaces too, as everyone expects by now.",
        None,
        ">A new paragraph starts after a gap, with an indent, and",
        "goes on for a while before it ends.",
        ">Indented again: another paragraph that runs on to the",
        "end of the page, where it is cut in the middle of an argu-"]),
    body_page(2, ["ment that is not lost at the page break, and then it ends.",
                  ">Fresh paragraph on page two."]),
    body_page(3, ["Final words of the paper, set without an indent here.",
                  "References",
                  "[1] A. Person. A cited paper that is not ours. 2020."]),
]
INFO = {"Title": "On Recursion", "Author": "Ada Example and Bo Sample",
        "CreationDate": "D:20230102030405+02'00'"}


def write_pdf(path: Path, pages: list[list[Line]] = PAPER_PAGES,
              info: dict[str, str] | None = INFO) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(make_pdf(pages, info))
    return path


def read_one(path: Path, options: ImportOptions | None = None):
    result = PdfPaperImporter(options).read(path)
    assert len(result.documents) == 1
    return result.documents[0]


def test_generated_pdf_is_readable_by_pypdf(tmp_path: Path) -> None:
    reader = pypdf.PdfReader(write_pdf(tmp_path / "paper.pdf"))
    assert len(reader.pages) == 3
    assert "recur-\nsion" in reader.pages[0].extract_text()
    assert reader.metadata.author == "Ada Example and Bo Sample"


def test_paper_text_is_rebuilt_into_clean_paragraphs(tmp_path: Path) -> None:
    doc = read_one(write_pdf(tmp_path / "paper.pdf"))
    assert doc.raw_text.split("\n\n") == [
        "We study how small programs grow, and how recursion shapes them. The well-known "
        "result holds for non-Euclidean spaces too, as everyone expects by now.",
        "A new paragraph starts after a gap, with an indent, and goes on for a while before "
        "it ends.",
        "Indented again: another paragraph that runs on to the end of the page, where it is "
        "cut in the middle of an argument that is not lost at the page break, and then it ends.",
        "Fresh paragraph on page two.",
        "Final words of the paper, set without an indent here.",
    ]


def test_running_header_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    doc = read_one(write_pdf(tmp_path / "paper.pdf"))
    assert HEADER not in doc.raw_text
    assert not any(line.strip().isdigit() for line in doc.raw_text.splitlines())


def test_references_section_is_dropped(tmp_path: Path) -> None:
    doc = read_one(write_pdf(tmp_path / "paper.pdf"))
    assert "References" not in doc.raw_text
    assert "A. Person" not in doc.raw_text


def test_document_fields_and_coauthorship(tmp_path: Path) -> None:
    doc = read_one(write_pdf(tmp_path / "paper.pdf"))
    assert (doc.platform, doc.kind, doc.is_owner) == ("paper", "paper", True)
    assert doc.title == "On Recursion"
    assert doc.created_at == datetime(2023, 1, 2, 1, 4, 5, tzinfo=timezone.utc)
    assert doc.external_id == "paper.pdf"
    assert doc.metadata == {"file": "paper.pdf", "pages": 3,
                            "authors": ["Ada Example", "Bo Sample"],
                            "coauthored": True, "weight": 0.5}
    assert doc.author == "Ada Example, Bo Sample"


def test_single_author_paper_is_not_marked_coauthored(tmp_path: Path) -> None:
    doc = read_one(write_pdf(tmp_path / "solo.pdf", info={"Author": "Ada Example"}),
                   ImportOptions(owner_name="Ada"))
    assert doc.author == "Ada"
    assert doc.metadata["authors"] == ["Ada Example"]
    assert "coauthored" not in doc.metadata and "weight" not in doc.metadata


def test_title_falls_back_to_the_first_large_line(tmp_path: Path) -> None:
    info = {"Title": "Microsoft Word - draft3.docx"}
    doc = read_one(write_pdf(tmp_path / "paper.pdf", info=info))
    assert doc.title == "On Recursion in Small Programs"
    assert "On Recursion in Small Programs" not in doc.raw_text
    assert doc.created_at is None and doc.metadata["authors"] == []


def test_section_heading_in_a_larger_font_is_its_own_paragraph(tmp_path: Path) -> None:
    page = [(72, 700, BODY_SIZE, "The introduction ends here, on a full line of text"),
            (72, 686, BODY_SIZE, "that wraps once before it stops."),
            (72, 660, 14, "2 Method"),
            (72, 640, BODY_SIZE, "We measured everything twice, which is a habit that"),
            (72, 626, BODY_SIZE, "costs time and saves face.")]
    doc = read_one(write_pdf(tmp_path / "one.pdf", pages=[page], info=None))
    assert doc.raw_text.split("\n\n") == [
        "The introduction ends here, on a full line of text that wraps once before it stops.",
        "2 Method",
        "We measured everything twice, which is a habit that costs time and saves face."]
    assert doc.title is None  # the largest line is not at the top: a heading, not a title


def test_folder_of_pdfs_gives_one_document_each_and_reports_progress(tmp_path: Path) -> None:
    write_pdf(tmp_path / "papers" / "a.pdf")
    write_pdf(tmp_path / "papers" / "sub" / "B.PDF", info={"Title": "Second"})
    (tmp_path / "papers" / "notes.txt").write_text("not a paper")
    seen: list[tuple[int, int | None]] = []
    result = PdfPaperImporter(ImportOptions(progress=lambda d, t: seen.append((d, t)))).read(
        tmp_path / "papers")
    assert [doc.external_id for doc in result.documents] == ["a.pdf", "sub/B.PDF"]
    assert [doc.title for doc in result.documents] == ["On Recursion", "Second"]
    assert seen[-1] == (2, 2)


def test_page_without_text_is_skipped_as_a_scan(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "scan.pdf", pages=[[]], info=None)
    result = PdfPaperImporter().read(path)
    assert result.documents == [] and result.skipped == {"no_text_layer": 1}


def _encrypted(tmp_path: Path, user_password: str) -> Path:
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(write_pdf(tmp_path / "plain.pdf")))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    target = tmp_path / "locked.pdf"
    target.write_bytes(buffer.getvalue())
    return target


def test_password_protected_pdf_is_an_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="encrypted") as error:
        PdfPaperImporter().read(_encrypted(tmp_path, "secret"))
    assert error.value.file.endswith("locked.pdf")


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    # Publishers lock copying/printing with an owner password; the text opens without one.
    doc = read_one(_encrypted(tmp_path, ""))
    assert doc.raw_text.startswith("We study how small programs grow, and how recursion")


@pytest.mark.parametrize("content", [
    b"%PDF-1.4\nthis is not really a pdf\n",
    make_pdf(PAPER_PAGES, INFO)[:900],  # truncated mid-file
])
def test_corrupt_pdf_is_an_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    with pytest.raises(ImportFormatError) as error:
        PdfPaperImporter().read(path)
    assert error.value.file == str(path)


def test_corrupt_pdf_inside_a_folder_names_that_file(tmp_path: Path) -> None:
    write_pdf(tmp_path / "papers" / "good.pdf")
    (tmp_path / "papers" / "bad.pdf").write_bytes(b"%PDF-1.7\n\x00\x01garbage")
    with pytest.raises(ImportFormatError) as error:
        PdfPaperImporter().read(tmp_path / "papers")
    assert error.value.file == str(tmp_path / "papers" / "bad.pdf")


def test_detect_accepts_pdfs_by_content(tmp_path: Path) -> None:
    importer = PdfPaperImporter()
    assert importer.detect(write_pdf(tmp_path / "paper.pdf"))
    assert importer.detect(str(tmp_path / "paper.pdf"))
    renamed = tmp_path / "download"
    renamed.write_bytes(make_pdf(PAPER_PAGES))
    assert importer.detect(renamed)
    assert importer.detect(tmp_path)


def test_detect_rejects_other_formats(tmp_path: Path) -> None:
    importer = PdfPaperImporter()
    fake = tmp_path / "fake.pdf"
    fake.write_text("just text with a .pdf name")
    blog = tmp_path / "blog"
    (blog / "_posts").mkdir(parents=True)
    (blog / "_posts" / "hello.md").write_text("---\ntitle: Hi\n---\nHello.\n")
    (blog / "_posts" / "more.md").write_text("---\ntitle: More\n---\nMore.\n")
    write_pdf(blog / "attachment.pdf")
    x_archive = tmp_path / "x"
    (x_archive / "data").mkdir(parents=True)
    (x_archive / "data" / "tweets.js").write_text("window.YTD.tweets.part0 = " + json.dumps([]))
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("data/tweets.js", "window.YTD.tweets.part0 = []")
    for foreign in (fake, blog, x_archive, archive, tmp_path / "missing.pdf"):
        assert not importer.detect(foreign), foreign
