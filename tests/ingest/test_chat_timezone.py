"""`twin ingest --timezone`: chat exports' zone-less local times are read in an IANA zone (default
the machine's), stored in UTC, the zone kept with the source and used to show its dates."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from llm_twin.cli.app import app
from llm_twin.errors import InputError
from llm_twin.ingest.base import ImportOptions
from llm_twin.ingest.formats.telegram import TelegramImporter
from llm_twin.ingest.formats.whatsapp import WhatsAppImporter
from llm_twin.ingest.timezones import in_zone, machine_zone_name
from llm_twin.storage.models import Document, Source
from llm_twin.storage.warehouse import session_factory

FIXTURES = Path(__file__).parents[1] / "fixtures"
WHATSAPP = FIXTURES / "whatsapp" / "timezone" / "WhatsApp Chat with Robin.txt"
TELEGRAM_LOCAL = FIXTURES / "telegram" / "local_dates" / "result.json"
TELEGRAM_FULL = FIXTURES / "telegram" / "full_export"
NEW_YORK = "America/New_York"
ME = ("Dana", "Dana Writes")


def _times(result) -> list[datetime]:
    return [doc.created_at for doc in result.documents]


def test_whatsapp_local_times_are_read_in_the_zone_winter_and_summer() -> None:
    result = WhatsAppImporter(ImportOptions(me=ME, timezone=NEW_YORK)).read(WHATSAPP)
    # 09:30 in New York: EST (UTC-5) in January, EDT (UTC-4) in July.
    assert _times(result) == [datetime(2024, 1, 15, 14, 30, tzinfo=UTC),
                              datetime(2024, 1, 15, 14, 41, tzinfo=UTC),
                              datetime(2024, 7, 15, 13, 30, tzinfo=UTC),
                              datetime(2024, 7, 15, 13, 52, tzinfo=UTC)]
    assert result.timezone == NEW_YORK
    utc = WhatsAppImporter(ImportOptions(me=ME)).read(WHATSAPP)  # no zone: read as UTC
    assert _times(utc)[0] == datetime(2024, 1, 15, 9, 30, tzinfo=UTC) and utc.timezone == "UTC"


def test_telegram_date_is_read_in_the_zone_and_date_unixtime_is_not() -> None:
    result = TelegramImporter(ImportOptions(me=ME, timezone=NEW_YORK)).read(TELEGRAM_LOCAL)
    assert _times(result) == [datetime(2024, 1, 15, 14, 30, tzinfo=UTC),
                              datetime(2024, 1, 15, 14, 41, 12, tzinfo=UTC),
                              datetime(2024, 7, 15, 13, 30, tzinfo=UTC)]
    assert result.timezone == NEW_YORK
    # `date_unixtime` is absolute: the zone changes nothing but what is recorded.
    absolute = TelegramImporter(ImportOptions(me=ME, timezone=NEW_YORK)).read(TELEGRAM_FULL)
    plain = TelegramImporter(ImportOptions(me=ME)).read(TELEGRAM_FULL)
    assert _times(absolute) == _times(plain) and len(_times(plain)) > 3


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/"])
def test_an_unknown_zone_is_an_input_error_naming_it(name: str) -> None:
    with pytest.raises(InputError) as raised:
        ImportOptions(timezone=name)
    assert repr(name) in str(raised.value) and "Europe/Paris" in str(raised.value)


def test_the_machine_zone_comes_from_tz_then_localtime_then_utc(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert machine_zone_name({"TZ": ":Asia/Tokyo"}, missing, missing) == "Asia/Tokyo"
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Europe/Lisbon")
    assert machine_zone_name({"TZ": "not a zone"}, link, missing) == "Europe/Lisbon"
    named = tmp_path / "timezone"
    named.write_text("Australia/Perth\n", encoding="utf-8")
    assert machine_zone_name({}, missing, named) == "Australia/Perth"
    assert machine_zone_name({}, missing, missing) == "UTC"


def test_in_zone_shows_a_stored_time_on_the_local_clock() -> None:
    stored = datetime(2024, 7, 15, 13, 30, tzinfo=UTC)
    assert in_zone(stored, NEW_YORK).strftime("%H:%M") == "09:30"
    assert in_zone(stored.replace(tzinfo=None), None).strftime("%H:%M") == "13:30"


def _twin(workspace: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(workspace), *args],
                              env={"COLUMNS": "250", "TZ": "UTC"})


def test_cli_records_the_zone_and_twin_sources_shows_local_times(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Robin.txt"
    shutil.copy(WHATSAPP, chat)
    workspace = tmp_path / "ws"
    result = _twin(workspace, "ingest", str(chat), "--me", "Dana", "--timezone", NEW_YORK,
                   "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["imported"] == 4
    engine = create_engine(f"sqlite:///{workspace / 'twin.db'}")
    with session_factory(engine)() as session:
        assert session.scalars(select(Source.timezone)).all() == [NEW_YORK]
        first = session.scalar(select(func.min(Document.created_at)))
    engine.dispose()
    assert first is not None and first.replace(tzinfo=UTC) == datetime(2024, 1, 15, 14, 30,
                                                                       tzinfo=UTC)
    listed = _twin(workspace, "sources")
    assert listed.exit_code == 0, listed.output
    assert "2024-01-15 09:30 – 2024-07-15 09:52" in listed.output
    assert NEW_YORK in listed.output and "14:30" not in listed.output


def test_cli_default_is_the_machine_zone(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Robin.txt"
    shutil.copy(WHATSAPP, chat)
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", str(chat),
                                      "--me", "Dana", "--json"],
                                env={"COLUMNS": "250", "TZ": "Asia/Kolkata"})
    assert result.exit_code == 0, result.output
    listed = _twin(tmp_path / "ws", "sources")
    assert "Asia/Kolkata" in listed.output and "2024-01-15 09:30" in listed.output


def test_cli_unknown_zone_names_it_and_stores_nothing(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat with Robin.txt"
    shutil.copy(WHATSAPP, chat)
    workspace = tmp_path / "ws"
    result = _twin(workspace, "ingest", str(chat), "--me", "Dana", "--timezone", "Mars/Base")
    assert result.exit_code != 0
    assert "Unknown time zone 'Mars/Base'" in result.output and "Europe/Paris" in result.output
    assert "No sources yet" in _twin(workspace, "sources").output


def test_search_hits_from_a_chat_show_its_local_date(workspace, tmp_path: Path) -> None:
    """09:30 on 15 January in Auckland (UTC+13) is 20:30 on the 14th in UTC: the hit shows the
    15th, the chat's own date; a source without a zone keeps UTC."""
    from llm_twin.app.indexing import index_into
    from llm_twin.app.search import SearchRequest, search_writing
    from llm_twin.ingest.pipeline import ingest_path

    chat = tmp_path / "WhatsApp Chat with Robin.txt"
    shutil.copy(WHATSAPP, chat)
    importer = WhatsAppImporter(ImportOptions(me=ME, timezone="Pacific/Auckland"))
    ingest_path(chat, importer, workspace.sessions)
    with workspace.vector_store() as store:
        index_into(workspace, store)
        found = search_writing(workspace, store, SearchRequest(
            "the ferry is cancelled in the snow", k=3, literal=True, expansions=0, rerank=False))
    hit = next(hit for hit in found.hits if "ferry" in hit.text)
    assert hit.created_at == datetime(2024, 1, 14, 20, 30, tzinfo=UTC)
    local = found.local_time(hit)
    assert local is not None and local.isoformat() == "2024-01-15T09:30:00+13:00"
    assert found.zones == {hit.source_id: "Pacific/Auckland"}
    found.zones.clear()
    assert found.local_time(hit) == datetime(2024, 1, 14, 20, 30, tzinfo=UTC)
