"""The shop's one time zone, Asia/Jakarta (WIB, UTC+7), and every way the shop writes or reads it.

The database holds aware UTC timestamps; Midtrans speaks Jakarta wall-clock time, and the pages
show it. Indonesia keeps no daylight saving time, so a fixed offset is exact.
"""
import logging
from datetime import date, datetime, time, timedelta, timezone

log = logging.getLogger(__name__)

ZONE = timezone(timedelta(hours=7), "WIB")
MIDTRANS_FORMAT = "%Y-%m-%d %H:%M:%S"  # Midtrans's transaction_time, settlement_time, ...


def to_midtrans(moment: datetime | None = None) -> str:
    """`moment` (default now) as Midtrans writes times: "YYYY-MM-DD HH:MM:SS" in WIB."""
    return (moment or datetime.now(timezone.utc)).astimezone(ZONE).strftime(MIDTRANS_FORMAT)


def from_midtrans(value) -> datetime | None:
    """Midtrans's "YYYY-MM-DD HH:MM:SS" (WIB) as an aware UTC timestamp; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        local = datetime.strptime(value.strip(), MIDTRANS_FORMAT)
    except ValueError:
        log.warning("unreadable Midtrans time %r", value[:40])
        return None
    return local.replace(tzinfo=ZONE).astimezone(timezone.utc)


def to_snap(moment: datetime) -> str:
    """Snap's expiry start time: "yyyy-MM-dd HH:mm:ss +0700"."""
    return moment.astimezone(ZONE).strftime(MIDTRANS_FORMAT + " +0700")


def for_people(moment: datetime | None) -> str:
    """An aware timestamp as the pages and e-mails show it: "31-12-2026 23:59 WIB"."""
    if moment is None:
        return "-"
    return moment.astimezone(ZONE).strftime("%d-%m-%Y %H:%M WIB")


def for_spreadsheet(moment: datetime | None) -> str:
    """An aware timestamp in Jakarta time as a spreadsheet set to Indonesian reads it: "31/12/2026 23:59"."""
    return "" if moment is None else moment.astimezone(ZONE).strftime("%d/%m/%Y %H:%M")


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in Jakarta."""
    return datetime.combine(day, time.min, tzinfo=ZONE)


def today() -> date:
    """Today's date in Jakarta."""
    return datetime.now(ZONE).date()
