"""axe-core, in Chromium, finds nothing serious or critical on the reader's pages,
at both widths."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)

PAGES = [
    "/",
    "/2014/",
    "/2014/04/",
    "/2014/04/15/",
    "/2014/04/15/stepping-up-but-not-staying-in/",
    "/2014/04/09/learning-organisations/",
    "/2014/04/17/im-not-really-surprised-to-hear/",
    "/tags/",
    "/tags/workforce/",
    "/no-such-page/",
]


def test_no_serious_or_critical_violations(live_server, page):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    call_command("loaddata", "april_2014", verbosity=0)
    axe = axe_module.Axe()
    found = {}
    for path in PAGES:
        page.goto(live_server.url + path)
        violations = axe.run(page).response["violations"]
        serious = [
            f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
            for v in violations
            if v["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path] = serious
    assert found == {}
