#!/usr/bin/env python3
"""Zip demo/x_archive into a file shaped like a real X/Twitter export.

Usage: python demo/make_x_archive.py OUT.zip

Stdlib only. The output is deterministic: entries are sorted, every timestamp is
1980-01-01 00:00:00 and permissions are fixed, so the same input gives the same bytes.
Members are named `data/...` exactly as in a real archive, plus a minimal `Your archive.html`.
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "x_archive"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

ARCHIVE_HTML = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Your archive</title></head>
<body>
<h1>Your archive</h1>
<p>Demo archive for @mayabuilds (Maya Lindqvist, a fictional person).
The data lives in the <code>data/</code> folder.</p>
</body>
</html>
"""


def members() -> dict[str, bytes]:
    files = {p.relative_to(SOURCE).as_posix(): p.read_bytes()
             for p in SOURCE.rglob("*") if p.is_file()}
    files.setdefault("Your archive.html", ARCHIVE_HTML.encode("utf-8"))
    return files


def build(out: Path) -> int:
    files = members()
    with zipfile.ZipFile(out, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix
            info.external_attr = (0o100644 << 16)  # regular file, rw-r--r--
            zf.writestr(info, files[name], compresslevel=9)
    return len(files)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python demo/make_x_archive.py OUT.zip", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    n = build(out)
    print(f"wrote {out} ({n} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
