"""Staff's view of the e-mail the site sends (blog.admin_mail), in Chromium at 1280 and
390 px, light and dark: the mailings with their progress, the outgoing e-mail, a
mailing's page and the desk's panel fit the window and axe finds nothing serious. And a
new post's e-mail and a digest, as a mail program would show their HTML, at both widths:
nothing wider than the window, the text at a readable size."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from blog.following import mailing
from blog.following.mailing import Rendered
from blog.models import Follower, Mailing, OutgoingMail, Post
from tests.factories import make_post, make_staff, make_user

from .conftest import ARTIFACTS, PASSWORD, screenshot
from .test_moderation_desk import audit_admin_pages

pytestmark = pytest.mark.django_db(transaction=True)
expect = pytest.importorskip("playwright.sync_api").expect
Status = OutgoingMail.Status

BODY = """Ofsted's new framework asks whether a local authority *learns*. What would a
learning organisation look like from the front line [1]?

## What the review said

> A system that values professional expertise is one that learns from what happens.

Three things stand out:

1. supervision that is about practice, not only caseload numbers;
2. time to reflect, protected from the next crisis;
3. leaders who know what the work is like [2].

![The front of a children's services office](/static/img/og-default.png)

None of this is new. What is new is that inspectors will ask about it.
"""


def a_started_mailing(post: Post, counts: dict[str, int]) -> Mailing:
    now = timezone.now()
    total = sum(counts.values())
    sent = Mailing.objects.create(
        kind=Mailing.Kind.POST,
        post=post,
        due_at=post.published_at,
        started_at=post.published_at,
        recipients=total,
    )
    followers = Follower.objects.bulk_create(
        [
            Follower(email=f"{post.slug[:20]}-{i:05}@example.org", confirmed_at=now)
            for i in range(total)
        ]
    )
    statuses = [status for status, n in counts.items() for _ in range(n)]
    OutgoingMail.objects.bulk_create(
        [
            OutgoingMail(
                kind=OutgoingMail.Kind.NEW_POST,
                to=f.email,
                mailing=sent,
                follower=f,
                status=status,
                attempts=1 if status != Status.QUEUED else 0,
                sent_at=now if status == Status.SENT else None,
                last_error="SMTPRecipientsRefused: 550 5.1.1 mailbox unavailable"
                if status == Status.FAILED
                else "",
            )
            for f, status in zip(followers, statuses, strict=True)
        ]
    )
    return sent


@pytest.fixture
def mail_data(live_server) -> str:
    make_staff("editor", password=PASSWORD)
    now = timezone.now()
    author = make_user(first_name="Pat", last_name="Writer")
    live = make_post(
        "Learning organisations: what Ofsted will ask",
        BODY,
        author=author,
        published_at=now - datetime.timedelta(hours=3),
        tags=["Ofsted"],
        references={
            1: "Munro, E. (2011) The Munro Review of Child Protection: Final Report. "
            "London: Department for Education.",
            2: "Ofsted (2023) Inspecting local authority children's services.",
        },
    )
    a_started_mailing(live, {Status.SENT: 1100, Status.QUEUED: 100, Status.FAILED: 20,
                             Status.CANCELLED: 14})  # fmt: skip
    older = make_post("Thresholds", author=author, published_at=now - datetime.timedelta(days=8))
    done = a_started_mailing(older, {Status.SENT: 40})
    Mailing.objects.filter(pk=done.pk).update(finished_at=older.published_at)
    later = make_post("Caseloads in 2026", author=author,
                      published_at=now + datetime.timedelta(days=1))  # fmt: skip
    Mailing.objects.create(kind=Mailing.Kind.POST, post=later, due_at=later.published_at)
    Follower.objects.create(
        email="weekly@example.org", frequency=Follower.Frequency.WEEKLY, confirmed_at=now
    )
    mailing.ensure_digest_scheduled()
    OutgoingMail.objects.create(
        kind=OutgoingMail.Kind.MODERATOR_NOTICE,
        to="editor@example.org",
        subject="New comment (awaiting approval) on ‘Learning organisations: what Ofsted will "
        "ask’ – Child Protection Social Work",
        status=Status.FAILED,
        attempts=30,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
    )
    OutgoingMail.objects.create(
        kind=OutgoingMail.Kind.COMMENT_CONFIRMATION,
        to="a.reader.with.a.long.address@example.org",
        subject="Confirm your comment on ‘Thresholds’ – Child Protection Social Work",
        status=Status.SENDING,
        claim="dead",
        claimed_at=now - datetime.timedelta(minutes=40),
    )
    return live_server.url


PAGES = {
    "admin-mailings": "/admin/blog/mailing/",
    "admin-outgoing-mail": "/admin/blog/outgoingmail/",
    "admin-outgoing-mail-failed": "/admin/blog/outgoingmail/?status=failed",
    "admin-desk-mail": "/admin/",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_mail_admin_pages_are_accessible_and_fit(mail_data, browser, scheme):
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    first = Mailing.objects.filter(kind=Mailing.Kind.POST).order_by("-recipients").first()
    pages = {**PAGES, "admin-mailing": f"/admin/blog/mailing/{first.pk}/change/"}

    def progress_shown(page) -> None:
        page.goto(mail_data + pages["admin-mailings"])
        expect(page.locator(".mailing-progress__text").first).to_have_text("1,100 of 1,234 sent")

    audit_admin_pages(browser, mail_data, "editor", pages, scheme, axe, then=progress_shown)


# The e-mails ---------------------------------------------------------------------------

# Nothing wider than the window, and the text no smaller than 14 px anywhere.
EMAIL_FITS = """() => document.documentElement.scrollWidth <= window.innerWidth
    && [...document.querySelectorAll('p, li, h1, h2, a')].every(
        el => parseFloat(getComputedStyle(el).fontSize) >= 14)"""


def show(page, site: str, name: str, rendered: Rendered) -> None:
    html = rendered.html.replace(mailing.UNSUBSCRIBE_MARK, f"{site}/unfollow/token/")
    # The site's own address (SITE_DOMAIN) is not the live server's: its images are.
    html = html.replace("http://127.0.0.1:8000", site)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.html"
    path.write_text(html)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate(EMAIL_FITS), f"{name} does not fit {page.width_name}"
    screenshot(page, name)


def test_a_new_posts_email_reads_well(mail_data, page):
    post = Post.objects.get(slug__startswith="learning-organisations")
    Post.objects.filter(pk=post.pk).update(
        call_for_answers="Does your authority learn? What would it take?"
    )
    follower = Follower.objects.filter(tag__isnull=True).first()
    show(page, mail_data, "email-new-post", mailing.render_new_post(post.pk, follower))
    expect(page.locator("h1")).to_have_text(post.title)
    expect(page.get_by_text("Answers please")).to_be_visible()


def test_a_digest_reads_well(mail_data, page):
    digest = Mailing.objects.get(kind=Mailing.Kind.DIGEST)
    posts = list(Post.objects.published().order_by("published_at"))
    follower = Follower.objects.get(email="weekly@example.org")
    show(page, mail_data, "email-digest", mailing.render_digest(digest, posts, follower))
    expect(page.locator("h2")).to_have_count(len(posts))
