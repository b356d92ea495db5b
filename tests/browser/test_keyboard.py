"""The keyboard alone, in Chromium, at 1280 and 390 px: pressing Tab from the top of a
page reaches every visible control in the order it comes in the page, and each one
shows where the focus is."""

import pytest
from django.test import Client

from blog.models import Post
from tests.discussion import comment_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)

# What Tab should stop at: the controls a reader sees (a closed <details> hides its
# links; a "hidden" button is not there), numbered in document order. A group of radio
# buttons is one stop, its checked button (the first when none is): the arrow keys move
# within it.
NUMBER_CONTROLS = """() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
        + '[tabindex], [contenteditable=""], [contenteditable=true]';
    const groupStop = el => {
        const group = [...el.form.elements].filter(other =>
            other.type === 'radio' && other.name === el.name);
        return group.find(other => other.checked) || group[0];
    };
    const controls = [...document.querySelectorAll(selector)].filter(el =>
        el.tabIndex >= 0 && !el.disabled && !el.closest('[inert]')
        && el.checkVisibility({visibilityProperty: true, opacityProperty: true})
        && (el.type !== 'radio' || !el.form || groupStop(el) === el)
    );
    controls.forEach((el, index) => { el.dataset.tabOrder = index; });
    return controls.length;
}"""

# Where the focus is after a Tab: which control, whether it is on screen and whether
# the focus is drawn (an outline, or the ring the site's CSS draws as a box-shadow).
FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return null;
    const style = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim();
    return {
        order: el.dataset.tabOrder === undefined ? null : Number(el.dataset.tabOrder),
        name: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${text.slice(0, 40)}"`,
        outlined: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
        ringed: style.boxShadow !== 'none',
        onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
            && r.top < innerHeight && r.left < innerWidth,
    };
}"""


def tab_through(page) -> tuple[int, list[dict]]:
    """The number of visible controls, and where each Tab from the top put the focus,
    until the focus leaves the page or comes round again to a control it has been on
    (at most that number plus five presses)."""
    count = page.evaluate(NUMBER_CONTROLS)
    stops, seen = [], set()
    for _ in range(count + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused["order"] in seen:
            break
        if focused["order"] is not None:
            seen.add(focused["order"])
        stops.append(focused)
    return count, stops


def keyboard_problems(page) -> list[str]:
    count, stops = tab_through(page)
    problems = []
    order = [stop["order"] for stop in stops]
    if order != list(range(count)):
        missed = sorted(set(range(count)) - set(order))
        names = page.evaluate(
            """missed => missed.map(n => {
                const el = document.querySelector(`[data-tab-order="${n}"]`);
                return `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}"`;
            })""",
            missed,
        )
        strays = [stop["name"] for stop in stops if stop["order"] is None]
        problems.append(
            f"Tab order {order} is not 0..{count - 1}; never reached: {names}; "
            f"reached but not a visible control: {strays}"
        )
    for stop in stops:
        if not (stop["outlined"] or stop["ringed"]):
            problems.append(f"no visible focus on {stop['name']}")
        if not stop["onScreen"]:
            problems.append(f"focused but off screen: {stop['name']}")
    return problems


@pytest.fixture
def pages(april_2014) -> dict[str, str]:
    """The pages to tab through, one of them a post with a discussion and its form."""
    post = Post.objects.get(slug="learning-organisations")
    comment_and_confirm(Client(), post, name="Ann Reader", url="https://ann.example.org/")
    return {
        "home": "/",
        "post with discussion": post.get_absolute_url(),
        "search": "/search/?q=inspections",
        "tag": "/tags/workforce/",
    }


def test_tab_reaches_every_control_in_order_with_visible_focus(april_2014, pages, page):
    found = {}
    for name, path in pages.items():
        page.goto(april_2014 + path)
        problems = keyboard_problems(page)
        if problems:
            found[name] = problems
    assert found == {}
