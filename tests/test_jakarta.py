"""The shop's one time zone: what Midtrans writes and reads, and what the pages show."""
from datetime import date, datetime, timezone

import pytest

from shop import jakarta

MOMENT = datetime(2026, 11, 27, 17, 30, 5, tzinfo=timezone.utc)  # 00:30:05 the next day in Jakarta


def test_snap_expiry_start_is_jakarta_time_with_its_offset():
    assert jakarta.to_snap(MOMENT) == "2026-11-28 00:30:05 +0700"


def test_midtrans_times_are_written_and_read_back_in_jakarta_time():
    assert jakarta.to_midtrans(MOMENT) == "2026-11-28 00:30:05"
    assert jakarta.from_midtrans("2026-11-28 00:30:05") == MOMENT


@pytest.mark.parametrize("value", ["2026-11-28T00:30:05Z", "28-11-2026 00:30:05", "", None, 1764290000])
def test_an_unreadable_midtrans_time_is_none(value):
    assert jakarta.from_midtrans(value) is None


def test_pages_show_jakarta_time():
    assert jakarta.for_people(MOMENT) == "28-11-2026 00:30 WIB"
    assert jakarta.for_people(None) == "-"


def test_a_day_starts_at_midnight_in_jakarta():
    assert jakarta.start_of_day(date(2026, 11, 28)) == datetime(2026, 11, 27, 17, 0, tzinfo=timezone.utc)
