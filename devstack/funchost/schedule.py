"""Timer schedules as the Functions timer extension reads them: NCRONTAB with seconds, TimeSpan.

Read from Microsoft's source:
- azure-webjobs-sdk-extensions `Timers/Scheduling/TimerSchedule.cs` (Create): the expression is
  first resolved with `INameResolver.ResolveWholeString` (every `%Name%` is an app setting; one
  that is not set fails the function's indexing), then tried as a cron expression, then as a
  TimeSpan; anything else is "not recognized as a valid cron expression or timespan string".
  A cron schedule with more than one occurrence in the next minute, or a TimeSpan under a
  minute, turns schedule monitoring off (`UseMonitor`).
- `Timers/Scheduling/CronSchedule.cs` (TryCreate): NCrontab with `IncludingSeconds = true`, so
  exactly six fields: second minute hour day month day-of-week.
- atifaziz/NCrontab `CrontabSchedule.cs` / `CrontabFieldImpl.cs`: fields split on spaces; each
  field a comma list of `*`, `n`, `a-b`, any of them with `/step` (`n/step` runs to the field's
  maximum); months and days of the week also by name prefix (`Jan`, `mon`), Sunday = 0 and
  day-of-week 0-6; a time must match the day-of-month AND the day-of-week field (unlike Vixie
  cron's OR); the next occurrence is strictly after the base time, to the second.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

_SETTING = re.compile(r"%([^%]+)%")
_TIMESPAN = re.compile(r"^(?:(\d+)\.)?(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,7}))?)?$")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
# (name, lowest, highest, value names) of the six fields, in order.
_FIELDS: tuple[tuple[str, int, int, list[str] | None], ...] = (
    ("Second", 0, 59, None),
    ("Minute", 0, 59, None),
    ("Hour", 0, 23, None),
    ("Day", 1, 31, None),
    ("Month", 1, 12, _MONTHS),
    ("DayOfWeek", 0, 6, _DAYS),
)
# Every weekday/leap-year combination recurs within 28 years: a schedule with no occurrence
# in that span (`0 0 0 30 2 *`) has none at all.
_HORIZON = timedelta(days=366 * 28)


class ScheduleError(ValueError):
    """The schedule cannot be used (the function fails to index, as on Azure)."""


def resolve_settings(expression: str, settings: Mapping[str, str] | None = None) -> str:
    """Replace each `%Name%` with that app setting; ScheduleError when one is not set."""
    env = os.environ if settings is None else settings

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ScheduleError(f"'%{name}%' does not resolve to a value.")
        return env[name]

    return _SETTING.sub(value, expression)


def _value(text: str, name: str, low: int, high: int, names: list[str] | None) -> int:
    if text[:1].isdigit():
        if not text.isdigit():
            raise ScheduleError(f"'{text}' is not a valid [{name}] crontab field value.")
        number = int(text)
    elif names is not None:
        found = [i for i, n in enumerate(names) if n.lower().startswith(text.lower())]
        if not text or not found:
            raise ScheduleError(f"'{text}' is not a known value name ({', '.join(names)}).")
        number = found[0] + low
    else:
        raise ScheduleError(
            f"'{text}' is not a valid [{name}] crontab field value. It must be a numeric value "
            f"between {low} and {high} (all inclusive)."
        )
    if not low <= number <= high:
        raise ScheduleError(f"{number} is out of range for [{name}] ({low}-{high}).")
    return number


def _field(text: str, name: str, low: int, high: int, names: list[str] | None) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ScheduleError(f"'{text}' is not a valid [{name}] crontab field expression.")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f"'{part}': the step of [{name}] must be a positive number.")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base[1:]:
            left, right = base.split("-", 1)
            first = _value(left, name, low, high, names)
            last = _value(right, name, low, high, names)
            if first > last:
                raise ScheduleError(f"'{part}': the range of [{name}] runs backwards.")
        else:
            first = _value(base, name, low, high, names)
            last = high if slash else first
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _next_in(values: tuple[int, ...], start: int) -> int | None:
    return next((v for v in values if v >= start), None)


@dataclass(frozen=True)
class CronSchedule:
    """A six-field NCRONTAB schedule (local time, as the timer extension uses)."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # Sunday = 0

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        tokens = [t for t in expression.split(" ") if t]
        if len(tokens) != len(_FIELDS):
            raise ScheduleError(
                f"'{expression}' is an invalid crontab expression. It must contain 6 components "
                "of a schedule in the sequence of seconds, minutes, hours, days, months, and "
                "days of week."
            )
        fields = [_field(t, *spec) for t, spec in zip(tokens, _FIELDS, strict=True)]
        return cls(
            expression,
            tuple(sorted(fields[0])),
            tuple(sorted(fields[1])),
            tuple(sorted(fields[2])),
            fields[3],
            fields[4],
            fields[5],
        )

    def _day_matches(self, t: datetime) -> bool:
        weekday = (t.weekday() + 1) % 7  # Python's Monday = 0; NCrontab's Sunday = 0
        return t.month in self.months and t.day in self.days and weekday in self.weekdays

    def next_after(self, base: datetime) -> datetime | None:
        """The first occurrence strictly after `base` (None: the schedule never occurs)."""
        t = base.replace(microsecond=0) + timedelta(seconds=1)
        end = base + _HORIZON
        while t < end:
            if not self._day_matches(t):
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            hour = _next_in(self.hours, t.hour)
            if hour is None:
                t = t.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if hour != t.hour:
                t = t.replace(hour=hour, minute=0, second=0)
            minute = _next_in(self.minutes, t.minute)
            if minute is None:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if minute != t.minute:
                t = t.replace(minute=minute, second=0)
            second = _next_in(self.seconds, t.second)
            if second is None:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            return t.replace(second=second)
        return None

    def __str__(self) -> str:
        return f"Cron: '{self.expression}'"


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule (`00:00:30`, `1.00:00:00`): every interval from the last run."""

    interval: timedelta

    def next_after(self, base: datetime) -> datetime | None:
        return base + self.interval

    def __str__(self) -> str:
        return f"Constant: {self.interval}"


Schedule = CronSchedule | ConstantSchedule


def _timespan(text: str) -> timedelta | None:
    m = _TIMESPAN.match(text.strip())
    if m is None:
        return None
    days, hours, minutes, seconds, fraction = m.groups()
    if int(hours) > 23 or int(minutes) > 59 or int(seconds or 0) > 59:
        return None
    return timedelta(
        days=int(days or 0),
        hours=int(hours),
        minutes=int(minutes),
        seconds=int(seconds or 0),
        microseconds=int((fraction or "0").ljust(7, "0")[:7]) // 10,
    )


def parse_schedule(expression: str, settings: Mapping[str, str] | None = None) -> Schedule:
    """The schedule of a timer binding, `%Setting%` expressions resolved first."""
    resolved = resolve_settings(expression, settings)
    try:
        return CronSchedule.parse(resolved)
    except ScheduleError as cron_error:
        interval = _timespan(resolved)
        if interval is None or interval <= timedelta(0):
            raise ScheduleError(
                f"The schedule expression '{resolved}' was not recognized as a valid cron "
                f"expression or timespan string ({cron_error})"
            ) from None
        return ConstantSchedule(interval)


def monitored_by_default(schedule: Schedule, now: datetime) -> bool:
    """UseMonitor's default: off for schedules that run more than once a minute."""
    if isinstance(schedule, ConstantSchedule):
        return schedule.interval >= timedelta(minutes=1)
    first = schedule.next_after(now)
    second = schedule.next_after(first) if first else None
    return not (first and second and second < now + timedelta(minutes=1))
