"""URL converters: the date archives' are fixed-width, so /2014/4/ is not /2014/04/;
ids are bounded, so that no number reaches the database that it cannot hold."""

# The largest id either database can hold (a signed 64-bit integer): SQLite raises
# OverflowError, rather than finding nothing, when asked for more.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """``value`` as a row id, or None when it cannot be one."""
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number <= MAX_ID else None


class FourDigitYearConverter:
    # Years 1000-2999: enough for any blog, and far from the calendar's edges, where
    # the date views' "next day" arithmetic would overflow.
    regex = "[12][0-9]{3}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):04d}"


class TwoDigitConverter:
    regex = "[0-9]{2}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):02d}"


class UnicodeSlugConverter:
    """Tag slugs: taggit keeps letters such as "ï" (naïve) in them."""

    regex = r"[-\w]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # no match: a 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
