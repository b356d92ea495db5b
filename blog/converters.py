"""URL converters for the date archives: fixed-width, so /2014/4/ is not /2014/04/."""


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
