"""Lengths of time as readers are told them, on the privacy page and in the messages
about e-mailed links: one wording for both, so a period reads the same everywhere."""

from __future__ import annotations

import datetime


def in_words(duration: datetime.timedelta) -> str:
    """A period in its largest whole unit: "30 days", "2 weeks", "a year", "36 hours",
    "90 seconds"."""
    seconds = int(duration.total_seconds())
    days, rest = divmod(seconds, 86400)
    if days and not rest:
        # A year's worth of days, whichever count a setting used for it.
        if days in (364, 365, 366):
            return "a year"
        # From two weeks up; a week alone reads more naturally as "7 days".
        if days >= 14 and days % 7 == 0:
            return f"{days // 7} weeks"
        return f"{days} day{'' if days == 1 else 's'}"
    for unit, length in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= length and seconds % length == 0:
            count = seconds // length
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "0 seconds"


def a_period(duration: datetime.timedelta) -> str:
    """As ``in_words``, but one unit reads as in a sentence: "a day", "an hour", "a
    year"; more as "2 days"."""
    words = in_words(duration)
    if not words.startswith("1 "):
        return words
    unit = words[2:]
    return f"{'an' if unit == 'hour' else 'a'} {unit}"
