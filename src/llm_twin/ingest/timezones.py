"""The zone chat exports' local times are read in (`twin ingest --timezone`), and shown in.

WhatsApp's `.txt` lines and Telegram's `date` field are the exporting phone's or computer's wall
clock, with no zone: they are read in an IANA zone (`Europe/Paris`), stored in UTC, and the zone is
kept with the source so that dates are shown back in it. Telegram's `date_unixtime`, Messenger's
and Instagram's timestamps are absolute and do not depend on it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from llm_twin.errors import InputError

EXAMPLE_ZONE = "Europe/Paris"
_LOCALTIME = Path("/etc/localtime")
_TIMEZONE_FILE = Path("/etc/timezone")  # Debian and Ubuntu write the zone's name here too


def zone_info(name: str) -> ZoneInfo:
    """The zone named `name`, or an InputError naming it and showing the expected form."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise InputError(f"Unknown time zone {shown!r}: give an IANA zone name such as "
                         f"{EXAMPLE_ZONE}, America/New_York or UTC.") from None


def machine_zone_name(environ: dict[str, str] | None = None, localtime: Path = _LOCALTIME,
                      timezone_file: Path = _TIMEZONE_FILE) -> str:
    """The zone this machine's clock is set to: the TZ environment variable when it names an
    IANA zone, else the zone /etc/localtime links to (or /etc/timezone names), else UTC."""
    env = os.environ if environ is None else environ
    tz = env.get("TZ", "").strip().lstrip(":")
    if tz and _is_zone(tz):
        return tz
    try:
        target = str(localtime.resolve()) if localtime.is_symlink() else ""
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        name = target.split("zoneinfo/", 1)[1]
        for prefix in ("posix/", "right/"):
            name = name.removeprefix(prefix)
        if _is_zone(name):
            return name
    try:
        name = timezone_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        name = ""
    return name if name and _is_zone(name) else "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def in_zone(moment: datetime, zone: str | None) -> datetime:
    """`moment` (a stored UTC time) on the wall clock of `zone` (UTC when None or unknown)."""
    target: tzinfo = UTC
    if zone:
        try:
            target = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            target = UTC
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(target)
