"""Supply chain: known vulnerabilities in requirements.lock (pip-audit), then the code's
own (bandit). Fails on any vulnerability found, and on any package pip-audit could not
check while its vulnerability service answers.

Where the service cannot be reached at all (this workplace's machines reach PyPI's
package pages but not its per-release JSON, which pip-audit reads, nor OSV), it says so
and points at the written exception in docs/security.md instead of claiming a clean
result.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOCK = ROOT / "requirements.lock"
# A release pip-audit would ask about, to tell "service unreachable" from "package unknown".
PROBE = "https://pypi.org/pypi/pip/24.0/json"
# How long a new patch release of a pinned series may wait to be taken before the audit
# fails. Without it, CI would fail on the day any upstream ships a patch, whatever the
# change under test; after it, a pin left behind is neglect, and fails.
GRACE = timedelta(days=14)


def service_answers() -> bool:
    try:
        with urllib.request.urlopen(PROBE, timeout=15) as response:  # nosec B310 # fixed https URL
            return response.status == 200
    except (urllib.error.URLError, TimeoutError):
        return False


def pip_audit() -> int:
    command = [str(BIN / "pip-audit"), "-r", str(LOCK), "--no-deps", "--disable-pip",
               "--progress-spinner", "off", "-f", "json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)  # nosec B603
    if result.returncode not in (0, 1) or not result.stdout.strip():
        print(result.stderr, file=sys.stderr)
        return result.returncode or 1
    report = json.loads(result.stdout)["dependencies"]
    found = [(d["name"], d["version"], v["id"]) for d in report for v in d.get("vulns", [])]
    skipped = [d["name"] for d in report if "skip_reason" in d]
    for name, version, vuln in found:
        print(f"pip-audit: {name} {version}: {vuln}")
    print(f"pip-audit: {len(report)} pinned packages, {len(report) - len(skipped)} audited, "
          f"{len(found)} known vulnerabilities")  # fmt: skip
    if found:
        return 1
    if not skipped:
        return 0
    if service_answers():
        print(f"pip-audit could not audit: {', '.join(skipped)}", file=sys.stderr)
        return 1
    print(f"pip-audit: its vulnerability service ({PROBE}) does not answer from this "
          "machine; reading PyPI's project pages instead.")  # fmt: skip
    try:
        return project_pages_audit()
    except (urllib.error.URLError, TimeoutError) as error:
        print(f"audit: PyPI does not answer from this machine ({error}): the pinned "
              "packages were not checked (docs/security.md).")  # fmt: skip
        return 0


def project_pages_audit() -> int:
    """What PyPI's project pages (which do answer here) can tell: the advisories against
    each project's latest release, and whether a pin is behind a newer release of its
    own series (a patch release, which is how security fixes ship). A pin held behind
    the latest on purpose (Django 5.2 LTS) is checked for the second only: the dated
    exception in docs/security.md covers the rest."""
    status = 0
    latest_ok = held = 0
    for name, version in pins():
        with urllib.request.urlopen(  # nosec B310 # fixed https host
            f"https://pypi.org/pypi/{name}/json", timeout=30
        ) as response:
            project = json.load(response)
        latest = project["info"]["version"]
        if version == latest:
            for vuln in project.get("vulnerabilities") or []:
                print(f"audit: {name} {version}: {vuln.get('id')} {vuln.get('summary') or ''}")
                status = 1
            latest_ok += 1
            continue
        series = version.rsplit(".", 1)[0] + "."
        newer = [r for r in project["releases"] if r.startswith(series) and _newer(r, version)]
        if newer:
            overdue = [r for r in newer if _released(project, r) < datetime.now(UTC) - GRACE]
            print(f"audit: {name} {version} is behind {', '.join(newer)} of its own series"
                  + ("" if overdue else f" (released within {GRACE.days} days: take it)"))
            status |= bool(overdue)
        else:
            print(f"audit: {name} {version}: the newest {series}x release (latest {latest}); "
                  "see docs/security.md")  # fmt: skip
            held += 1
    print(f"audit: {latest_ok} pins at their project's latest release with no advisory "
          f"listed against it, {held} held at the newest release of their series")  # fmt: skip
    return status


def pins() -> list[tuple[str, str]]:
    pinned = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)")
    return [m.groups() for line in LOCK.read_text().splitlines() if (m := pinned.match(line))]


def _newer(release: str, version: str) -> bool:
    def key(v: str) -> tuple:
        return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.+-]", v))

    return re.fullmatch(r"[\d.]+", release) is not None and key(release) > key(version)


def _released(project: dict, release: str) -> datetime:
    """When a release's first file was uploaded (a release with no files counts as now)."""
    times = [f["upload_time_iso_8601"] for f in project["releases"].get(release) or []]
    return min((datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times),
               default=datetime.now(UTC))  # fmt: skip


def bandit() -> int:
    command = [str(BIN / "bandit"), "-q", "-c", str(ROOT / "pyproject.toml"), "-r",
               "blog", "config", "tools", "bench", "tests/reliability"]  # fmt: skip
    command = [part for part in command if part != "tests/reliability" or
               (ROOT / part).is_dir()]  # fmt: skip
    result = subprocess.run(  # nosec B603
        command, cwd=ROOT, timeout=600, capture_output=True, text=True
    )
    print(result.stdout, end="")
    # bandit warns of a `# nosec` on a line whose other parts of the statement raise
    # nothing (a multi-line f-string, say): noise, not findings.
    noise = "nosec encountered"
    print("".join(line for line in result.stderr.splitlines(keepends=True)
                  if noise not in line), end="", file=sys.stderr)  # fmt: skip
    print("bandit: clean" if result.returncode == 0 else "bandit: issues found (above)")
    return result.returncode


if __name__ == "__main__":
    sys.exit(pip_audit() | bandit())
