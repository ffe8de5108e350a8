"""ExportTree: one view of a zip or a folder, treating every zip as hostile."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from llm_twin.ingest.base import ImportFormatError
from llm_twin.ingest.safe_zip import ExportTree

FILES = {"data/Account.js": b"account", "data/tweets.js": b"tweets \xf0\x9f\xa7\xb5",
         "README.txt": b"readme"}


def make_zip(target: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return target


def make_folder(root: Path, members: dict[str, bytes]) -> Path:
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_zip_and_folder_look_the_same(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "export.zip", FILES)
    folder = make_folder(tmp_path / "export", FILES)
    for path in (zipped, folder):
        with ExportTree(path) as tree:
            assert tree.list() == ["README.txt", "data/Account.js", "data/tweets.js"]
            assert tree.read_bytes("data/tweets.js") == FILES["data/tweets.js"]
            assert tree.read_text("data/tweets.js") == "tweets 🧵"
            assert tree.read_head("README.txt", 3) == b"rea"


def test_names_match_case_insensitively(tmp_path: Path) -> None:
    with ExportTree(make_zip(tmp_path / "export.zip", FILES)) as tree:
        assert tree.find("DATA/account.JS") == "data/Account.js"
        assert tree.find("data/missing.js") is None


def test_one_wrapping_folder_is_dropped(tmp_path: Path) -> None:
    wrapped = {f"twitter-2024/{name}": data for name, data in FILES.items()}
    wrapped["__MACOSX/twitter-2024/._README.txt"] = b"resource fork"
    with ExportTree(make_zip(tmp_path / "export.zip", wrapped)) as tree:
        assert tree.list() == ["README.txt", "data/Account.js", "data/tweets.js"]
        expected = tmp_path / "export.zip" / "twitter-2024" / "README.txt"
        assert tree.display_name("README.txt") == str(expected)


def test_wrapping_can_be_kept(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "blog", {"posts/a.md": b"a", "posts/b.md": b"b"})
    with ExportTree(folder, unwrap=False) as tree:
        assert tree.list() == ["posts/a.md", "posts/b.md"]


def test_media_is_skipped_by_default(tmp_path: Path) -> None:
    members = {**FILES, "data/tweets_media/1-abc.jpg": b"\xff\xd8", "data/clip.MP4": b"\0"}
    with ExportTree(make_zip(tmp_path / "export.zip", members)) as tree:
        assert "data/clip.MP4" not in tree.list()
    with ExportTree(make_zip(tmp_path / "export.zip", members), skip_media=False) as tree:
        assert "data/tweets_media/1-abc.jpg" in tree.list()


@pytest.mark.parametrize("member", ["../evil", "data/../../evil", "/etc/evil", "C:/evil",
                                    "..\\evil"])
def test_unsafe_member_paths_reject_the_archive(tmp_path: Path, member: str) -> None:
    zipped = make_zip(tmp_path / "hostile.zip", {**FILES, member: b"payload"})
    with pytest.raises(ImportFormatError, match=r"hostile\.zip: unsafe"):
        ExportTree(zipped)


def test_corrupt_zip_is_an_error_naming_the_zip(tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"definitely not a zip file")
    with pytest.raises(ImportFormatError, match=r"broken\.zip: not a zip") as caught:
        ExportTree(broken)
    assert caught.value.file == str(broken)


def test_declared_size_over_the_cap_is_rejected(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "big.zip", {"data/big.js": b"x" * 5000})
    with pytest.raises(ImportFormatError, match=r"big\.zip: declares 5000 bytes"):
        ExportTree(zipped, max_total_bytes=4096)


def test_bytes_read_are_capped_too(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "export", {"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})
    with ExportTree(folder, max_total_bytes=4096) as tree:
        tree.read_bytes("a.txt")
        with pytest.raises(ImportFormatError, match="exceeds the limit of 4096 bytes"):
            tree.read_bytes("b.txt")


def test_undecodable_text_names_the_member(tmp_path: Path) -> None:
    zipped = make_zip(tmp_path / "export.zip", {"notes.txt": b"line one\ncaf\xe9\n"})
    with ExportTree(zipped) as tree, pytest.raises(ImportFormatError,
                                                   match=r"notes\.txt, line 2: not valid UTF-8"):
        tree.read_text("notes.txt")


def test_missing_path_and_unknown_member(tmp_path: Path) -> None:
    with pytest.raises(ImportFormatError, match="does not exist"):
        ExportTree(tmp_path / "nowhere.zip")
    with ExportTree(make_folder(tmp_path / "export", FILES)) as tree:
        with pytest.raises(ImportFormatError, match="no file named"):
            tree.read_bytes("../outside.txt")


def test_a_member_with_an_absurd_compression_ratio_is_refused(tmp_path):
    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/tweets.js", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(ImportFormatError, match="zip bomb") as error:
        ExportTree(bomb)
    assert "tweets.js" in str(error.value)
