"""Feed every local importer (and the zip reader and the Markdown front-matter reader) mutated
copies of the real test fixtures, and check that only `ImportFormatError` ever comes out.

    python benchmarks/fuzz_importers.py --per-format 1000 --seed 0 --out /tmp/fuzz-crashes

For each format a seed export is built from tests/fixtures/<format>/ (or, for formats without a
fixture folder, the same way its tests build one). Input *i* of a format is derived from
``random.Random(f"{seed}:{format}:{i}")`` alone: one file of the seed export is mutated (byte flips,
truncation, deleted/duplicated JSON keys, wrong types, huge values, invalid UTF-8 and Latin-1
text mixed in, deep nesting, CSV quote damage, XML entity tricks such as billion laughs and
external entities, YAML alias bombs) and the export is written as a file, a folder or a zip. Then
`detect` runs and, when it answers True, `read`. An input passes when nothing escapes or only
`ImportFormatError` does, and that error names a file of the export.

Inputs run in a worker process with a limit of 5 s of CPU time each (an input over it is a hang;
the parent kills a worker still busy after 20 s of wall-clock time and records a hang too) and an
address-space cap (``--memory-mb`` over the worker's baseline), so a memory blow-up surfaces as
MemoryError, which counts as a crash. The peak RSS of the workers is printed.

Why plain random mutation rather than hypothesis or atheris: every input must be reproducible
from (seed, format, index) alone, so a worker that is killed can be replaced and the run carries
on at the next index, and a crash can be replayed with ``--formats F --only-index I``; the
mutators are structure-aware (they parse JSON, CSV, XML and YAML and damage them at the structure
level), which reaches the importers' field handling that blind coverage-guided byte mutation
rarely gets past; and atheris has no wheel for every platform this project runs on. The fast
test (tests/ingest/test_fuzz_importers.py) drives the same mutators from hypothesis instead.

The pseudo-format "url" fuzzes the safe fetcher (ingest/net.py): a generated URL is fetched
through a mock network that answers with generated redirect chains (`run_url_case`); only
ImportFormatError may come out and no request may reach a non-public or unknown host.

Not covered here: the git importer (it runs git in a subprocess) and the web importer's page
extraction (its fetching is the safe fetcher, covered by "url").
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import logging
import multiprocessing as mp
import random
import resource
import shutil
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
TIME_LIMIT_S = 5.0  # CPU seconds per input
# A worker is killed after this many times the limit in wall-clock time: on a shared machine the
# wall clock runs several times faster than a busy worker's CPU clock.
WALL_FACTOR = 4

Files = dict[str, bytes]


@dataclass
class Seed:
    """One valid export: its files, how it is laid out on disk, and the importer options."""

    name: str
    files: Files
    layout: str  # "file" (a single file), "folder" or "zip"
    me: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ("folder", "zip")


def _folder(path: Path) -> Files:
    return {p.relative_to(path).as_posix(): p.read_bytes()
            for p in sorted(path.rglob("*")) if p.is_file()}


def _load_test_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_fuzz_{name}", REPO / "tests" / "ingest"
                                                  / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _x_archive_files() -> Files:
    tweets = [{"tweet": {"id_str": str(1790000000000000001 + i), "id": str(1790000000000000001 + i),
                         "created_at": "Tue May 14 08:00:02 +0000 2024",
                         "full_text": f"Tweet {i}: write the ugly draft first &amp; edit later",
                         "display_text_range": ["0", "50"],
                         "entities": {"hashtags": [], "symbols": [], "user_mentions": [],
                                      "urls": []},
                         "favorite_count": "1", "retweet_count": "0", "retweeted": False,
                         "lang": "en"}} for i in range(4)]
    account = [{"account": {"email": "me@example.org", "username": "dana_writes",
                            "accountId": "90011", "createdAt": "2012-04-01T09:00:00.000Z",
                            "accountDisplayName": "Dana"}}]

    def ytd(name: str, payload: Any) -> bytes:
        return f"window.YTD.{name}.part0 = {json.dumps(payload, indent=1)}".encode()
    return {"data/account.js": ytd("account", account), "data/tweets.js": ytd("tweets", tweets),
            "Your archive.html": b"<html>viewer</html>"}


_MARKDOWN = {
    "posts/2024-01-02-slow-work.md": b"---\ntitle: On slow work\nauthor: Dana\n"
                                     b"date: 2024-01-02\ntags: [craft, writing]\n---\n\n"
                                     b"Slow work is still work.\n",
    "posts/2024-02-03-drafts.md": b"---\ntitle: 'Drafts'\nauthor: Dana\ndate: 2024-02-03 10:00\n"
                                  b"url: https://example.org/drafts\n---\nWrite it ugly first.\n",
    "notes/plain.md": b"# A note\n\nNo front matter here.\n",
}


_SEEDS: dict[str, list[Seed]] = {}


def seeds() -> dict[str, list[Seed]]:
    """The seed exports per format name (the importer's `format_name`), plus "zip" (built once)."""
    if not _SEEDS:
        _SEEDS.update(_build_seeds())
    return _SEEDS


def _build_seeds() -> dict[str, list[Seed]]:
    out: dict[str, list[Seed]] = {
        "x-archive": [Seed("x-archive", _x_archive_files(), "folder")],
        "linkedin": [Seed("linkedin", _folder(FIXTURES / "linkedin" / "export"), "folder")],
        "medium": [Seed("medium", _folder(FIXTURES / "medium"), "folder")],
        "substack": [Seed("substack", _folder(FIXTURES / "substack"), "folder")],
        "instagram": [Seed("instagram", _folder(FIXTURES / "instagram"), "folder")],
        "messenger": [Seed("messenger", _folder(FIXTURES / "messenger"), "folder")],
        "telegram": [Seed("telegram", _folder(FIXTURES / "telegram" / "full_export"), "folder"),
                     Seed("telegram-chat", _folder(FIXTURES / "telegram" / "chat_export"),
                          "folder", me=("Dana Writes",))],
        "whatsapp": [Seed(p.name, {p.name: p.read_bytes()}, "file", me=("Dana", "Dana Writes"),
                          alternatives=("file", "zip"))
                     for p in sorted((FIXTURES / "whatsapp").rglob("*.txt"))],
        "mastodon": [Seed("mastodon", _folder(FIXTURES / "mastodon"), "folder")],
        "wordpress": [Seed("wordpress", _folder(FIXTURES / "wordpress"), "file",
                           alternatives=("file", "zip"))],
        "ghost": [Seed("ghost", _folder(FIXTURES / "ghost"), "file",
                       alternatives=("file", "zip"))],
        "arxiv-latex": [Seed("arxiv-latex", _folder(FIXTURES / "arxiv-latex"), "folder")],
        "feed": [Seed(p.name, {p.name: p.read_bytes()}, "file", alternatives=("file",))
                 for p in sorted((FIXTURES / "feed").iterdir()) if p.name != "broken.xml"],
        "markdown-folder": [Seed("markdown", dict(_MARKDOWN), "folder")],
    }
    try:
        bluesky = _load_test_module("test_bluesky")
        out["bluesky"] = [Seed("bluesky", {"repo.car": bluesky.build_car(bluesky.REPO["records"])},
                               "file", alternatives=("file", "zip"))]
    except ImportError:  # libipld missing: the importer cannot run either
        pass
    try:
        pdf = _load_test_module("test_paper_pdf")
        page = [(72.0, 700.0, 18.0, "A Study of Slow Work"), (72.0, 670.0, 12.0, "Dana Whitfield"),
                (72.0, 640.0, 12.0, "Abstract"),
                (72.0, 620.0, 10.0, "We look at how slow work makes better writing.")]
        out["pdf"] = [Seed("pdf", {"paper.pdf": pdf.make_pdf([page, page])}, "file",
                           alternatives=("file",))]
    except ImportError:  # pypdf missing: the importer cannot run either
        pass
    # The zip reader on its own: every fixture folder zipped, then the zip bytes mutated.
    out["zip"] = [Seed("zip-" + s.name, s.files, "zip", alternatives=("zip",))
                  for name in ("linkedin", "mastodon", "markdown-folder") for s in out[name]]
    return out


# ---------------------------------------------------------------- mutators (bytes -> bytes)

def _flip(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data or b"\0")
    for _ in range(rng.randint(1, 8)):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return bytes(buf)


def _truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randint(0, max(len(data) - 1, 0))]


def _invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    at = rng.randint(0, len(data))
    junk = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80",
                       b"\x00", "café".encode("latin-1"), "naïve €".encode("cp1252")])
    return data[:at] + junk + data[at:]


def _mixed_encoding(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    cut = rng.randint(0, len(text))
    codec = rng.choice(["latin-1", "utf-16", "utf-16-le", "cp1252", "utf-32"])
    return text[:cut].encode("utf-8") + text[cut:].encode(codec, "replace")


# How big "huge" values and how deep nesting get; the fast test turns these down.
HUGE_BYTES = 4 << 20
JSON_DEPTHS = (50, 1_000, 100_000)
MARKUP_DEPTHS = (100, 5_000, 50_000)


def _huge(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return b"A" * HUGE_BYTES
    start = rng.randrange(len(data))
    piece = data[start:start + rng.randint(1, 64)]
    return data[:start] + piece * (HUGE_BYTES // len(piece)) + data[start:]


def _splice(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data * 2
    a, b = sorted(rng.sample(range(len(data)), 2))
    return data[:b] + data[a:b] * rng.randint(1, 4) + data[b:]


BYTE_MUTATORS: list[Callable[[random.Random, bytes], bytes]] = [
    _flip, _truncate, _invalid_utf8, _mixed_encoding, _huge, _splice]


def _wrong_value(rng: random.Random) -> Any:
    return rng.choice([None, True, 0, -1, 2 ** 70, 10 ** 400, 1e308, float("nan"), "",
                       "x" * 100_000, [], {}, [None], {"": None}, "1970-01-01", "not a date",
                       "\u202e\u0000", [[[[]]]], {"$link": "bafy"}, "-1"])


def _mutate_json_value(rng: random.Random, value: Any, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and (depth < 2 or rng.random() < 0.7):
        key = rng.choice(list(value))
        copy = dict(value)
        action = rng.random()
        if action < 0.25:
            del copy[key]
        elif action < 0.45:
            copy[key] = _wrong_value(rng)
        else:
            copy[key] = _mutate_json_value(rng, value[key], depth + 1)
        return copy
    if isinstance(value, list) and value and (depth < 2 or rng.random() < 0.7):
        copy = list(value)
        index = rng.randrange(len(copy))
        action = rng.random()
        if action < 0.2:
            del copy[index]
        elif action < 0.35:
            copy.insert(index, _wrong_value(rng))
        elif action < 0.45:
            copy.extend([copy[index]] * rng.randint(1, 3))
        else:
            copy[index] = _mutate_json_value(rng, copy[index], depth + 1)
        return copy
    return _wrong_value(rng)


def _split_js(data: bytes) -> tuple[bytes, bytes]:
    """(prefix, JSON) for an X archive's `window.YTD.x.part0 = [...]` file, else (b"", data)."""
    if data.startswith(b"window."):
        at = data.find(b"=")
        return data[:at + 1] + b" ", data[at + 1:]
    return b"", data


def _json_structural(rng: random.Random, data: bytes) -> bytes:
    prefix, body = _split_js(data)
    value = json.loads(body)
    action = rng.random()
    if action < 0.6:
        value = _mutate_json_value(rng, value)
        text = json.dumps(value, ensure_ascii=rng.random() < 0.5)
    elif action < 0.75:  # duplicated key: the last one wins in json.loads
        text = json.dumps(value)
        at = text.find('": ')
        if at > 0:
            start = text.rfind('"', 0, at) + 1
            key = text[start:at]
            text = text[:start - 1] + f'"{key}": {json.dumps(_wrong_value(rng))}, ' + text[start - 1:]
    elif action < 0.9:  # deep nesting
        depth = rng.choice(JSON_DEPTHS)
        text = json.dumps(value)
        if rng.random() < 0.3:
            cut = rng.randint(0, len(text))
            text = text[:cut] + "[" * depth + "]" * depth + text[cut:]
        elif isinstance(value, dict) and len(text) > 2:
            text = text[:-1] + ', "deep": ' + '{"a":' * depth + "1" + "}" * depth + "}"
        else:
            text = "[" * depth + text + "]" * depth
    else:
        text = json.dumps(value).replace(":", ": " + "0" * rng.randint(1, 5000) + "1 ,", 1)
    return prefix + text.encode("utf-8", "surrogatepass")


def _csv_damage(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8-sig", "replace")
    action = rng.random()
    if action < 0.3:  # an unbalanced quote somewhere
        at = rng.randint(0, len(text))
        return (text[:at] + '"' + text[at:]).encode()
    if action < 0.45:
        return text.replace('"', "", rng.randint(1, 3)).encode()
    if action < 0.6:
        return (text[:rng.randint(0, len(text))] + "\0" + text).encode()
    if action < 0.75:
        return (text + '\n"' + "x" * max(HUGE_BYTES // 16, 140_000) + '"\n').encode()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return data
    row = rng.choice(rows)
    if row and rng.random() < 0.5:
        del row[rng.randrange(len(row))]
    else:
        row.extend(["extra"] * rng.randint(1, 5))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


_LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;'
           '&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'
           '&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'
           '&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'
           '&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
           '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
           '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
           '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
           '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>')
_XXE = '<!DOCTYPE r [<!ENTITY lol SYSTEM "file:///etc/passwd">]>'
_REMOTE = '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p; <!ENTITY lol "x">]>'


def _markup_damage(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    action = rng.random()
    if action < 0.35 and "<" in text:  # an entity bomb or external entity before the root
        doctype = rng.choice([_LAUGHS, _XXE, _REMOTE])
        decl_end = text.find("?>") + 2 if text.lstrip().startswith("<?xml") else 0
        body = text[decl_end:]
        tag_at = body.find(">", body.find("<") + 1)
        use = "&lol9;" if doctype is _LAUGHS else "&lol;"
        body = body[:tag_at + 1] + use + body[tag_at + 1:] if tag_at >= 0 else body
        return (text[:decl_end] + doctype + body).encode()
    if action < 0.55:  # deep nesting
        depth = rng.choice(MARKUP_DEPTHS)
        at = rng.randint(0, len(text))
        return (text[:at] + "<div>" * depth + "x" + "</div>" * depth + text[at:]).encode()
    if action < 0.8:  # tag damage: drop a '<' or '>' or a closing tag
        marks = [i for i, c in enumerate(text) if c in "<>"]
        if marks:
            at = rng.choice(marks)
            return (text[:at] + text[at + 1:]).encode()
        return data
    at = rng.randint(0, len(text))  # a stray undefined entity or CDATA end
    return (text[:at] + rng.choice(["&bogus;", "]]>", "<![CDATA[", "&#0;", "&#x110000;"])
            + text[at:]).encode()


_YAML_BOMB = ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
              "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
              "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n")


def _front_matter_damage(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    header = rng.choice([_YAML_BOMB, "title: [unclosed\n", "- a list\n- not a mapping\n",
                         "date: 2024-13-45\n", "date: 99999-01-01\n", "title: !!python/object:os.system x\n",
                         "author: [1, 2]\ndate: [2024]\nurl: {a: b}\ntags: 5\n",
                         "title: " + "[" * 10_000 + "\n", "? " * 2000 + "x\n", "date: 1e400\n",
                         "author: !!binary AAAA\n", "created: 0000-00-00\n", "---\n---\n"])
    if text.startswith("---\n") and rng.random() < 0.7:
        return ("---\n" + header + text[4:]).encode()
    return ("---\n" + header + ("---\n" if rng.random() < 0.8 else "") + text).encode()


def mutate_file(rng: random.Random, name: str, data: bytes) -> bytes:
    """One mutation of one file, structure-aware when the file's type allows."""
    suffix = Path(name).suffix.casefold()
    structural: list[Callable[[random.Random, bytes], bytes]] = []
    if suffix in (".json", ".js"):
        structural = [_json_structural] * 3
    elif suffix == ".csv":
        structural = [_csv_damage] * 2
    elif suffix in (".xml", ".rdf", ".html", ".htm"):
        structural = [_markup_damage] * 2
    elif suffix in (".md", ".markdown"):
        structural = [_front_matter_damage] * 2
    mutator = rng.choice(structural + BYTE_MUTATORS)
    try:
        return mutator(rng, data)
    except (ValueError, RecursionError, csv.Error):  # not parseable as its type: damage bytes
        return _flip(rng, data)


def mutate_export(rng: random.Random, files: Files) -> Files:
    """The export with 1-3 of its files mutated, sometimes one deleted or duplicated."""
    out = dict(files)
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        name = rng.choice(sorted(out))
        out[name] = mutate_file(rng, name, out[name])
    if len(out) > 1 and rng.random() < 0.05:
        del out[rng.choice(sorted(out))]
    if rng.random() < 0.03:
        name = rng.choice(sorted(out))
        out[str(Path(name).with_name("copy-" + Path(name).name))] = out[name]
    return out


def zip_bytes(files: Files, rng: random.Random | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    raw = buffer.getvalue()
    if rng is not None and rng.random() < 0.5:  # damage the archive itself
        return rng.choice([_flip, _truncate, _splice])(rng, raw)
    return raw


def write_export(root: Path, seed: Seed, files: Files, layout: str,
                 rng: random.Random | None = None) -> Path:
    """Lay the export out under `root`: the single file, a folder, or a zip."""
    if layout == "file":
        name, data = next(iter(files.items()))
        target = root / Path(name).name
        target.write_bytes(data)
        return target
    if layout == "zip":
        target = root / f"{seed.name}.zip"
        target.write_bytes(zip_bytes(files, rng))
        return target
    folder = root / seed.name
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def make_input(seed_list: list[Seed], rng: random.Random) -> tuple[Seed, Files, str]:
    seed = rng.choice(seed_list)
    layout = seed.layout if rng.random() < 0.75 else rng.choice(seed.alternatives)
    if layout == "file" and len(seed.files) != 1:
        layout = "folder"
    return seed, mutate_export(rng, seed.files), layout


# ---------------------------------------------------------------- running one input

def importer_for(format_name: str, me: tuple[str, ...]) -> Any:
    from llm_twin.ingest.base import ImportOptions
    from llm_twin.ingest.registry import default_importers
    for importer in default_importers(options=ImportOptions(owner_name="Dana", me=me)):
        if importer.format_name == format_name:
            return importer
    raise KeyError(format_name)


def check_zip(location: Path) -> None:
    """The zip reader alone: open, list, read every member as bytes and as text."""
    from llm_twin.ingest.safe_zip import ExportTree
    with ExportTree(location) as tree:
        for name in tree.list():
            tree.find(name.upper())
            tree.read_head(name, 64)
            tree.read_bytes(name)
            try:
                tree.read_text(name)
            except Exception as error:
                if type(error).__name__ != "ImportFormatError":
                    raise


def run_one(format_name: str, seed: Seed, location: Path) -> str:
    """'ok', 'not detected' or 'documented'; raises anything else."""
    from llm_twin.ingest.base import ImportFormatError
    try:
        if format_name == "zip":
            check_zip(location)
            return "ok"
        importer = importer_for(format_name, seed.me)
        if not importer.detect(location):
            return "not detected"
        importer.read(location)
        return "ok"
    except ImportFormatError as error:
        if not (error.file and (Path(error.file) == location or
                                str(error.file).startswith(str(location)))):
            raise AssertionError(f"ImportFormatError names {error.file!r}, not the export "
                                 f"{location}: {error}") from error
        return "documented"


# ---------------------------------------------------------------- the safe fetcher ("url")

# Hosts the fuzz resolver answers for; any other name fails to resolve, as in DNS. Numeric forms
# that getaddrinfo itself understands (2130706433, 0x7f.1, 0177.0.0.1) go to the real resolver,
# which answers them without a network.
PUBLIC_HOSTS = {"pub.example.com": ["93.184.216.34"], "bücher.example": ["93.184.216.35"],
                "v6.example.net": ["2606:4700::1111"], "xn--bcher-kva.example": ["93.184.216.35"]}
PRIVATE_HOSTS = {"intranet.corp": ["10.0.0.7"], "metadata.internal": ["169.254.169.254"],
                 "localhost": ["127.0.0.1", "::1"], "mixed.example.com": ["93.184.216.34",
                                                                          "192.168.1.1"],
                 "mapped.example.com": ["::ffff:127.0.0.1"], "пример.corp": ["172.16.0.1"],
                 "zone.example.com": ["fe80::1%eth0"], "zero.example.com": ["0.0.0.0"]}
_LITERALS = ["93.184.216.34", "127.0.0.1", "10.1.2.3", "169.254.169.254", "0.0.0.0", "[::1]",
             "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[fe80::1%25eth0]", "[fc00::1]",
             "[2606:4700::1111]", "[::]", "2130706433", "0x7f000001", "0177.0.0.1", "127.1",
             "127.0.0.1.", "224.0.0.1", "100.64.0.1", "192.0.2.1", "[::1", "::1]", "[:::1]",
             "[64:ff9b::7f00:1]", "[2002:7f00:1::]"]
_TRICKS = ["%31%32%37.0.0.1", "pub.example.com%2f@127.0.0.1", "pub%2eexample.com",
           "pub.example.com\\@127.0.0.1", "127.0.0.1#@pub.example.com", "pub.example.com.",
           "PUB.EXAMPLE.COM", "pub.example.com\x00.corp", "a" * 64 + ".example.com",
           "a." * 130 + "com", "xn--.example", "xn--zz-zz.example", "bücher.example",
           "ＰＵＢ.example.com", "pub.example.com:99999", "pub.example.com:-1", "pub.example.com:x",
           "pub.example.com:443", "user:pass@pub.example.com", "pub.example.com@intranet.corp",
           "intranet.corp@pub.example.com", "@pub.example.com", "pub.example.com\t", " pub.example.com"]
_SCHEMES = ["http", "https", "HTTP", "HtTpS", "ftp", "file", "javascript", "gopher", "data", "",
            " http", "http\t", "ws"]


def random_url(rng: random.Random) -> str:
    """One URL, mostly well-formed, with the host and the scheme drawn from the tricks above."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(["", "//pub.example.com/", "pub.example.com", "http://", "http:///x",
                           "https:pub.example.com", "http:\\\\pub.example.com\\", "/relative",
                           "http://" + "a" * 5000 + ".com/", "http://pub.example.com/" + "%" * 3])
    host = rng.choice([*PUBLIC_HOSTS, *PRIVATE_HOSTS, *_LITERALS, *_TRICKS])
    scheme = rng.choice(_SCHEMES) if rng.random() < 0.3 else rng.choice(["http", "https"])
    path = rng.choice(["/", "/post", "/a/../../etc/passwd", "/%2e%2e/%00", "/?q=1#frag",
                       "/" + "x" * 9000, "/ünï", "", "/robots.txt"])
    if rng.random() < 0.1:
        userinfo = rng.choice(["u@", "u:p@", "%40@", "a@b@", "pub.example.com@"])
        host = userinfo + host
    return f"{scheme}://{host}{path}"


def _fuzz_resolver(host: str) -> list[str]:
    import socket
    folded = host.casefold().rstrip(".")
    table = {**PUBLIC_HOSTS, **PRIVATE_HOSTS}
    if folded in table:
        return table[folded]
    if folded and all(c in "0123456789abcdefx." for c in folded):
        return [info[4][0] for info in socket.getaddrinfo(folded, None)]
    raise OSError(f"unknown host {host!r}")


def _addresses_of(host: str) -> list[str]:
    """What a host the transport was asked for stands for: its literal address or its answers."""
    try:
        return [host.strip("[]").split("%")[0]] if ipaddress_of(host) else _fuzz_resolver(host)
    except OSError:
        return []


def ipaddress_of(host: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def run_url_case(rng: random.Random) -> str:
    """Fetch a generated URL through a mock network whose answers are generated redirect chains.

    Passes when the fetch returns or raises ImportFormatError, and no request ever reached a host
    that is (or resolves to) a non-public address or that the resolver does not know."""
    import httpx

    from llm_twin.ingest.base import ImportFormatError, ImportOptions
    from llm_twin.ingest.net import SafeFetcher, _is_non_public

    hops = [rng.random() for _ in range(rng.randint(0, 8))]
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        addresses = _addresses_of(host)
        import ipaddress
        if not addresses or any(_is_non_public(ipaddress.ip_address(a.split("%")[0]))
                                for a in addresses):
            raise AssertionError(f"a request reached {host!r} ({addresses}): {request.url}")
        seen.append(str(request.url))
        if request.url.path == "/robots.txt":
            return httpx.Response(rng.choice([200, 404, 500]), text="User-agent: *\nAllow: /\n")
        if not hops:
            return httpx.Response(200, text="<p>ok</p>")
        roll = hops.pop()
        if roll < 0.7:
            location = random_url(rng) if roll < 0.5 else rng.choice(
                ["/next", "../x", "//pub.example.com/y", "?q", "#f", "", " ", "http://[::1]/",
                 "https://pub.example.com:0/", "\x00", "ünï/x", "%zz"])
            headers = {"Location": location.encode()} if rng.random() < 0.95 else {}
            return httpx.Response(rng.choice([301, 302, 303, 307, 308]), headers=headers)
        return httpx.Response(rng.choice([200, 204, 404, 410, 500, 503]), text="body")

    started = time.monotonic()
    with SafeFetcher(ImportOptions(), min_interval=0.0, timeout=2.0, resolver=_fuzz_resolver,
                     transport=httpx.MockTransport(answer)) as fetcher:
        try:
            fetcher.fetch(random_url(rng))
            kind = "ok"
        except ImportFormatError:
            kind = "documented"
    if time.monotonic() - started > TIME_LIMIT_S:
        raise AssertionError(f"fetch took {time.monotonic() - started:.1f} s")
    return kind


@dataclass
class Outcome:
    kind: str  # ok | not detected | documented | crash | hang
    detail: str = ""
    seconds: float = 0.0


def _worker(conn: Connection, format_name: str, seed_value: int, memory_mb: int) -> None:
    logging.getLogger("pypdf").setLevel(logging.CRITICAL)  # a warning per damaged PDF object
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        baseline = int(statm.read().split()[0]) * resource.getpagesize()
    cap = baseline + memory_mb * 1024 * 1024
    if hard == resource.RLIM_INFINITY or cap < hard:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    seed_list = seeds().get(format_name, [])
    while True:
        try:
            index = conn.recv()
        except EOFError:  # the parent is gone
            return
        if index is None:
            return
        rng = random.Random(f"{seed_value}:{format_name}:{index}")
        started = time.process_time()
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            try:
                if format_name == "url":
                    kind, detail = run_url_case(rng), ""
                else:
                    seed, files, layout = make_input(seed_list, rng)
                    location = write_export(Path(tmp), seed, files, layout, rng)
                    kind, detail = run_one(format_name, seed, location), ""
            except BaseException as error:
                kind = "crash"
                detail = "".join(traceback.format_exception(error))[-4000:]
        conn.send((index, kind, detail, time.process_time() - started,
                   resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


@dataclass
class FormatReport:
    name: str
    inputs: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    crashes: list[tuple[int, str]] = field(default_factory=list)
    slowest: float = 0.0
    peak_rss_mb: float = 0.0


def fuzz_format(format_name: str, indices: list[int], seed_value: int,
                memory_mb: int) -> FormatReport:
    report = FormatReport(format_name)
    seeds()  # built and imported once here, inherited by every forked worker
    importer_for("feed", ())
    context = mp.get_context("fork")
    started = time.perf_counter()
    pending = list(indices)
    while pending:
        parent, child = context.Pipe()
        worker = context.Process(target=_worker, args=(child, format_name, seed_value, memory_mb),
                                 daemon=True)
        worker.start()
        while pending:
            index = pending.pop(0)
            parent.send(index)
            if not parent.poll(TIME_LIMIT_S * WALL_FACTOR):
                report.counts["hang"] = report.counts.get("hang", 0) + 1
                report.crashes.append((index, f"hang: over {TIME_LIMIT_S * WALL_FACTOR} s wall"))
                report.inputs += 1
                break
            try:
                got, kind, detail, seconds, rss_kb = parent.recv()
            except EOFError:
                report.counts["crash"] = report.counts.get("crash", 0) + 1
                report.crashes.append((index, f"worker died (exit {worker.exitcode})"))
                report.inputs += 1
                break
            report.inputs += 1
            report.slowest = max(report.slowest, seconds)
            report.peak_rss_mb = max(report.peak_rss_mb, rss_kb / 1024)
            if seconds > TIME_LIMIT_S:
                kind, detail = "hang", f"took {seconds:.1f} s of CPU"
            report.counts[kind] = report.counts.get(kind, 0) + 1
            if kind in ("crash", "hang"):
                report.crashes.append((got, detail))
        else:
            parent.send(None)
        worker.kill()
        worker.join()
    report.seconds = time.perf_counter() - started
    return report


def save_crash(out: Path, format_name: str, seed_value: int, index: int, detail: str) -> Path:
    """The crashing export and its traceback, under out/<format>-<index>/."""
    rng = random.Random(f"{seed_value}:{format_name}:{index}")
    folder = out / f"{format_name}-{index}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if format_name == "url":  # nothing to write: the case is rebuilt from its index
        layout, location = "network", Path("(generated URL and redirect chain)")
    else:
        seed, files, layout = make_input(seeds()[format_name], rng)
        location = write_export(folder, seed, files, layout, rng)
    (folder / "traceback.txt").write_text(
        f"format {format_name} seed {seed_value} index {index} layout {layout}\n"
        f"export: {location}\nrerun: python benchmarks/fuzz_importers.py --formats {format_name} "
        f"--seed {seed_value} --only-index {index}\n\n{detail}\n", encoding="utf-8")
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-format", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="", help="comma-separated; default: all")
    parser.add_argument("--only-index", default="", help="replay these inputs (comma-separated)")
    parser.add_argument("--memory-mb", type=int, default=1024,
                        help="address space a worker may add over its baseline")
    parser.add_argument("--out", type=Path, default=Path("fuzz-crashes"))
    args = parser.parse_args(argv)
    available = [*seeds(), "url"]
    wanted = [name for name in args.formats.split(",") if name] or sorted(available)
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        parser.error(f"unknown formats {unknown}; known: {sorted(available)}")
    indices = ([int(i) for i in args.only_index.split(",")] if args.only_index
               else list(range(args.per_format)))
    print(f"{'format':<16}{'inputs':>8}{'seconds':>9}{'inputs/s':>10}{'documented':>12}"
          f"{'no detect':>11}{'ok':>7}{'crashes':>9}{'max CPU s':>11}{'peak MB':>9}", flush=True)
    total_crashes = 0
    for name in wanted:
        report = fuzz_format(name, indices, args.seed, args.memory_mb)
        crashes = report.counts.get("crash", 0) + report.counts.get("hang", 0)
        total_crashes += crashes
        print(f"{name:<16}{report.inputs:>8}{report.seconds:>9.1f}"
              f"{report.inputs / max(report.seconds, 1e-9):>10.1f}"
              f"{report.counts.get('documented', 0):>12}{report.counts.get('not detected', 0):>11}"
              f"{report.counts.get('ok', 0):>7}{crashes:>9}{report.slowest:>11.2f}"
              f"{report.peak_rss_mb:>9.0f}", flush=True)
        if report.crashes:
            index, detail = report.crashes[0]
            folder = save_crash(args.out, name, args.seed, index, detail)
            last_line = detail.strip().splitlines()[-1] if detail.strip() else detail
            print(f"    first crash: index {index} -> {folder}: {last_line}", flush=True)
            kinds = sorted({d.strip().splitlines()[-1] for _, d in report.crashes if d.strip()})
            for kind in kinds[:8]:
                print(f"      {kind[:150]}", flush=True)
    print(f"total crashes: {total_crashes}")
    return 1 if total_crashes else 0


if __name__ == "__main__":
    sys.exit(main())
