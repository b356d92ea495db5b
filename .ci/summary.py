"""The test counts of each CI leg, read from the JUnit files `make test` and
`make test-postgres` write, with the database and cache each leg really used."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET  # nosec B405 # our own pytest output, not untrusted XML
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LEGS = {"junit-sqlite.xml": "make test", "junit-postgres.xml": "make test-postgres"}
OUTCOMES = ("skipped", "failure", "error")


def main() -> int:
    status = 0
    for name, command in LEGS.items():
        path = ARTIFACTS / name
        if not path.exists():
            print(f"{command}: no results (the leg did not run)")
            continue
        suite = ET.parse(path).getroot()  # nosec B314 # written by pytest in this run
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        # Counted from the test cases: the suite's "tests" attribute also counts some
        # set-up and tear-down reports.
        outcomes = [
            next((child.tag for child in case if child.tag in OUTCOMES), "passed")
            for case in suite.iter("testcase")
        ]
        passed, skipped = outcomes.count("passed"), outcomes.count("skipped")
        failed = outcomes.count("failure") + outcomes.count("error")
        print(f"{command}: database {properties.get('database', '?')}, cache "
              f"{properties.get('cache', '?')}: {passed} passed, {skipped} skipped, "
              f"{failed} failed, in {float(suite.get('time')):.0f} s")  # fmt: skip
        status |= failed > 0
    return status


if __name__ == "__main__":
    sys.exit(main())
