"""Timer schedules parse and step as NCrontab (six fields, with seconds) and TimeSpan do.

The rules are read from atifaziz/NCrontab (CrontabSchedule.cs, CrontabFieldImpl.cs) and
azure-webjobs-sdk-extensions (TimerSchedule.cs, CronSchedule.cs); see
devstack/funchost/schedule.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from devstack.funchost.schedule import (
    ConstantSchedule,
    CronSchedule,
    ScheduleError,
    monitored_by_default,
    parse_schedule,
)

BASE = datetime(2026, 11, 30, 4, 33, 20)  # a Monday


def occurrences(expression: str, count: int = 3, base: datetime = BASE) -> list[datetime]:
    schedule = parse_schedule(expression, {})
    found = []
    for _ in range(count):
        nxt = schedule.next_after(base)
        assert nxt is not None
        found.append(nxt)
        base = nxt
    return found


def test_the_sweep_schedule_runs_every_five_minutes_on_the_minute() -> None:
    assert occurrences("0 */5 * * * *") == [
        datetime(2026, 11, 30, 4, 35),
        datetime(2026, 11, 30, 4, 40),
        datetime(2026, 11, 30, 4, 45),
    ]


def test_the_next_occurrence_is_strictly_after_the_base_time() -> None:
    assert occurrences("20 33 4 * * *", 1) == [datetime(2026, 12, 1, 4, 33, 20)]
    assert occurrences("*/10 * * * * *", 2, BASE + timedelta(microseconds=5)) == [
        datetime(2026, 11, 30, 4, 33, 30),
        datetime(2026, 11, 30, 4, 33, 40),
    ]


def test_names_lists_ranges_and_steps() -> None:
    # 9:30 on weekdays, from a Friday evening: Monday's comes next.
    assert occurrences("0 30 9 * * Mon-Fri", 2, datetime(2026, 11, 27, 18)) == [
        datetime(2026, 11, 30, 9, 30),
        datetime(2026, 12, 1, 9, 30),
    ]
    assert occurrences("0 0 12 * jan,JUL sun", 2) == [
        datetime(2027, 1, 3, 12),
        datetime(2027, 1, 10, 12),
    ]
    assert occurrences("15/20 0 0 * * *", 3) == [  # n/step runs to the field's end
        datetime(2026, 12, 1, 0, 0, 15),
        datetime(2026, 12, 1, 0, 0, 35),
        datetime(2026, 12, 1, 0, 0, 55),
    ]
    assert occurrences("0 0 1-5/2 * * *", 3) == [  # 05:00 today is still ahead of 04:33
        datetime(2026, 11, 30, 5),
        datetime(2026, 12, 1, 1),
        datetime(2026, 12, 1, 3),
    ]


def test_day_of_month_and_day_of_week_must_both_match() -> None:
    # NCrontab ANDs the two (Vixie cron would OR them): the 13th that is a Friday.
    assert occurrences("0 0 0 13 * 5", 2) == [datetime(2027, 8, 13), datetime(2028, 10, 13)]


def test_month_ends_and_leap_days() -> None:
    assert occurrences("0 0 0 31 * *", 2) == [datetime(2026, 12, 31), datetime(2027, 1, 31)]
    assert occurrences("0 0 0 29 2 *", 1) == [datetime(2028, 2, 29)]
    assert parse_schedule("0 0 0 30 2 *", {}).next_after(BASE) is None  # never


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("0 */5 * * *", "must contain 6 components"),  # five fields: no seconds
        ("0 0 */5 * * * *", "must contain 6 components"),
        ("60 * * * * *", "out of range for [Second]"),
        ("0 0 24 * * *", "out of range for [Hour]"),
        ("0 0 0 0 * *", "out of range for [Day]"),
        ("0 0 0 * * 7", "out of range for [DayOfWeek]"),
        ("0 0 0 * Smarch *", "not a known value name"),
        ("*/0 * * * * *", "must be a positive number"),
        ("0 5-1 * * * *", "runs backwards"),
        ("0 ,5 * * * *", "not a valid [Minute] crontab field expression"),
        ("every five minutes", "not recognized as a valid cron expression or timespan"),
        ("00:00:00", "not recognized"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_reason(expression: str, why: str) -> None:
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(expression, {})
    assert why in str(raised.value)


def test_app_settings_are_resolved_first() -> None:
    schedule = parse_schedule("%EVERY% * * * * *", {"EVERY": "*/15"})
    assert isinstance(schedule, CronSchedule)
    assert schedule.seconds == (0, 15, 30, 45)
    with pytest.raises(ScheduleError, match=r"'%MISSING%' does not resolve to a value"):
        parse_schedule("%MISSING%", {})


def test_a_timespan_schedule_repeats_its_interval() -> None:
    schedule = parse_schedule("00:00:30", {})
    assert schedule == ConstantSchedule(timedelta(seconds=30))
    assert schedule.next_after(BASE) == BASE + timedelta(seconds=30)
    assert parse_schedule("1.02:00:00", {}) == ConstantSchedule(timedelta(days=1, hours=2))


def test_schedules_of_more_than_once_a_minute_are_not_monitored() -> None:
    assert monitored_by_default(parse_schedule("0 */5 * * * *", {}), BASE)
    assert not monitored_by_default(parse_schedule("*/10 * * * * *", {}), BASE)
    assert not monitored_by_default(parse_schedule("00:00:30", {}), BASE)
    assert monitored_by_default(parse_schedule("00:01:00", {}), BASE)
