"""Chat import throughput: a synthetic 200,000-line WhatsApp chat, parse alone and parse + store.

    .venv/bin/python benchmarks/ingest_chats.py [--lines 200000] [--runs 3]

The chat has two people, multi-line messages, system lines, media placeholders, edits and
deletions, and other people's lines with e-mail addresses and (1 in 100) phone numbers, so the
redaction of other people's data runs as it would on a real chat. The store
is `twin ingest`'s own path (`ingest_path`) into a fresh SQLite warehouse in a temp folder.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import best_of, spread  # noqa: E402

from llm_twin.ingest.base import ImportOptions  # noqa: E402
from llm_twin.ingest.pipeline import ingest_path  # noqa: E402
from llm_twin.ingest.formats.whatsapp import WhatsAppImporter  # noqa: E402
from llm_twin.storage.warehouse import create_warehouse_engine, session_factory  # noqa: E402

OWNER = "Dana"
PARTNER = "Sam"
WORDS = ("coffee later", "shipping the draft tonight", "ok", "haha yes", "did you see the game",
         "running late, 10 min", "can you send the link", "love it 🙂", "meeting moved to 15:30",
         "thanks!!", "what about Sunday", "Sam, you there?", "mail me: sam@example.net")
# About 1 message in 100 holds a phone number: the phone matcher (~0.5 ms a message) runs there.
PHONE_LINE = "new number: +44 7700 900123"


def synthetic_chat(lines: int, seed: int = 7) -> str:
    """About `lines` lines of an Android 24h export, day-first dates over a few years."""
    rng = random.Random(seed)
    moment = datetime(2021, 1, 3, 8, 0)
    out = [f"{moment:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted. No one "
           "outside of this chat, not even WhatsApp, can read or listen to them."]
    while len(out) < lines:
        moment += timedelta(minutes=rng.randint(1, 90))
        stamp = f"{moment:%d/%m/%Y, %H:%M} - "
        roll = rng.random()
        sender = OWNER if rng.random() < 0.5 else PARTNER
        if roll < 0.02:
            out.append(f"{stamp}{PARTNER} changed their phone number to a new number. Tap to "
                       "message or add the new number.")
        elif roll < 0.05:
            out.append(f"{stamp}{sender}: <Media omitted>")
        elif roll < 0.06:
            out.append(f"{stamp}{sender}: This message was deleted")
        elif roll < 0.08:
            out.append(f"{stamp}{sender}: {rng.choice(WORDS)} <This message was edited>")
        elif roll < 0.23:
            extra = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
            out.append(f"{stamp}{sender}: {rng.choice(WORDS)}")
            out.extend(extra)
        elif roll < 0.24:
            out.append(f"{stamp}{sender}: {PHONE_LINE}")
        else:
            out.append(f"{stamp}{sender}: {rng.choice(WORDS)}")
    return "\n".join(out[:lines]) + "\n"


def store_once(path: Path, importer: WhatsAppImporter) -> int:
    folder = Path(tempfile.mkdtemp(prefix="twin-chat-db-"))
    try:
        sessions = session_factory(create_warehouse_engine(f"sqlite:///{folder / 'twin.db'}"))
        return ingest_path(path, importer, sessions).new_documents
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="twin-chat-bench-"))
    try:
        chat = folder / f"WhatsApp Chat with {PARTNER}.txt"
        chat.write_text(synthetic_chat(args.lines), encoding="utf-8")
        importer = WhatsAppImporter(ImportOptions(me=(OWNER,)))
        parse_best, parse_runs, result = best_of(args.runs, lambda: importer.read(chat))
        store_best, store_runs, stored = best_of(args.runs, lambda: store_once(chat, importer))
        documents = len(result.documents)
        size_mb = chat.stat().st_size / 1e6
        print(f"synthetic WhatsApp chat: {args.lines} lines, {size_mb:.1f} MB, "
              f"{documents} documents read, {stored} stored, skipped {result.skipped}")
        print(f"  parse (WhatsAppImporter.read): {parse_best:6.2f}s  "
              f"{documents / parse_best:8.0f} docs/s{spread(parse_runs)}")
        print(f"  store (ingest_path, SQLite):   {store_best:6.2f}s  "
              f"{stored / store_best:8.0f} docs/s{spread(store_runs)}")
        print(f"  ratio store/parse (time):      {store_best / parse_best:6.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
