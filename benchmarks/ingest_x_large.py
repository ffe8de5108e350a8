"""A generated X archive of 50,000 tweets: first ingest documents/s, and a second ingest of the
same archive (baseline: the first) which must be ≥ 10× faster and add 0 rows.

    .venv/bin/python benchmarks/ingest_x_large.py [--tweets 50000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import timed  # noqa: E402

from sqlalchemy import func, select  # noqa: E402

from llm_twin.ingest.pipeline import ingest_path  # noqa: E402
from llm_twin.ingest.formats.x_archive import XArchiveImporter  # noqa: E402
from llm_twin.storage.models import Document  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

ACCOUNT_ID = "4242"
WORDS = ("postgres queue deploy boring feature team on-call pager index vacuum migration bike "
         "coffee review design doc rollback latency cache budget intern sunday bug lesson").split()


def tweet(number: int, when: datetime, rng: random.Random, reply_to: str | None) -> dict:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30)))
    body = {"id_str": str(1_500_000_000_000_000_000 + number), "full_text": f"{text} #{number}",
            "created_at": when.strftime("%a %b %d %H:%M:%S +0000 %Y"), "lang": "en",
            "display_text_range": ["0", str(len(text))], "favorite_count": "1",
            "retweet_count": "0", "entities": {"hashtags": [], "urls": [], "user_mentions": []}}
    if reply_to:
        body.update(in_reply_to_status_id_str=reply_to, in_reply_to_user_id_str=ACCOUNT_ID,
                    in_reply_to_screen_name="bench")
    return {"tweet": body}


def build_archive(target: Path, count: int) -> None:
    rng = random.Random(7)
    start = datetime(2015, 1, 1, tzinfo=timezone.utc)
    tweets, previous = [], None
    for number in range(count):
        in_thread = previous is not None and rng.random() < 0.1
        item = tweet(number, start + timedelta(minutes=number * 7), rng, previous if in_thread else None)
        tweets.append(item)
        previous = item["tweet"]["id_str"]
    account = [{"account": {"username": "bench", "accountId": ACCOUNT_ID,
                            "accountDisplayName": "Bench Writer"}}]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data/account.js", "window.YTD.account.part0 = " + json.dumps(account))
        archive.writestr("data/tweets.js", "window.YTD.tweets.part0 = " + json.dumps(tweets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tweets", type=int, default=50_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="twin-xlarge-"))
    try:
        archive = folder / "twitter-bench.zip"
        build_archive(archive, args.tweets)
        sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
        importer = XArchiveImporter()
        parse_seconds, parsed = timed(lambda: importer.read(archive))
        first_seconds, first = timed(lambda: ingest_path(archive, importer, sessions))
        second_seconds, second = timed(lambda: ingest_path(archive, importer, sessions))
        with sessions() as session:
            rows = session.scalar(select(func.count()).select_from(Document))
        print(f"X archive: {args.tweets} tweets -> {len(parsed.documents)} documents "
              f"({archive.stat().st_size / 1e6:.1f} MB zip)")
        print(f"  parse only:     {parse_seconds:6.2f} s  {len(parsed.documents) / parse_seconds:8.0f} docs/s")
        print(f"  first ingest:   {first_seconds:6.2f} s  {first.new_documents / first_seconds:8.0f} docs/s "
              f"(goal ≥ 5,000)")
        print(f"  second ingest:  {second_seconds:6.2f} s  {second.new_documents} new documents; "
              f"{first_seconds / second_seconds:.0f}× faster than the first (goal ≥ 10×)")
        print(f"  rows in the warehouse: {rows}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
