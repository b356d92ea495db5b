"""Comments posted at the same moment: each reply takes its own place in its thread, and
a confirmation link's button pressed several times at once stores one comment.

django-comments-xtd computes a reply's place (``order``) in Python from the rows it
reads, so two replies computed at once would take the same place; blog.models.Comment
places them one at a time. These tests post with real threads, each with its own
database connection, lined up on a barrier so that they arrive together.

On SQLite the test database lives in memory, shared between threads through SQLite's
shared cache, whose table locks fail at once ("database table is locked") instead of
waiting: that would test the shared cache, not the site. Production SQLite serialises
every write with IMMEDIATE transactions; the load test (docs/reliability.md) runs it
through the real server. These tests run on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, TransactionTestCase, override_settings

from blog.models import Comment, UsedConfirmationLink

from ..factories import make_post, make_user
from . import confirmation_path, form_data

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database that threads can share with real locks: PostgreSQL "
    "(SQLite's in-memory test database fails concurrent writers at once)",
)

READERS = 16
SECONDS = 60  # bound on any one wait: a lock never released fails the test


def at_once(calls: list[Callable[[], object]]) -> list[object]:
    """Run every call in its own thread, released together; their results in order.
    Each thread closes its own database connection when done."""
    barrier = threading.Barrier(len(calls), timeout=SECONDS)

    def run(call: Callable[[], object]) -> object:
        try:
            barrier.wait()
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=SECONDS) for future in futures]


def assert_consistent_thread(test: TransactionTestCase, thread_id: int) -> list[Comment]:
    """The thread's comments in ``order`` are a depth-first walk of its tree: positions
    1..n with none shared, each reply one level below its parent, after it, and
    within its parent's run of descendants; each comment counts its descendants."""
    rows = list(Comment.objects.filter(thread_id=thread_id).order_by("order", "pk"))
    orders = [row.order for row in rows]
    test.assertEqual(orders, list(range(1, len(rows) + 1)), "positions shared or skipped")
    by_pk = {row.pk: row for row in rows}
    path = [rows[0]]
    test.assertEqual((rows[0].pk, rows[0].parent_id, rows[0].level), (thread_id, thread_id, 0))
    for row in rows[1:]:
        parent = by_pk[row.parent_id]
        test.assertEqual(row.level, parent.level + 1, f"level of {row.pk}")
        # Walking up from the previous comment must reach the parent: otherwise the
        # reply sits outside its parent's subtree.
        while path and path[-1].pk != parent.pk:
            path.pop()
        test.assertTrue(path, f"comment {row.pk} is not within its parent's replies")
        path.append(row)
    for row in rows:
        descendants = 0
        for later in rows[row.order :]:
            if later.level <= row.level:
                break
            descendants += 1
        test.assertEqual(row.nested_count, descendants, f"nested_count of {row.pk}")
    return rows


@override_settings(BLOG_COMMENTS_RATE_LIMIT=0)  # every reader posts from 127.0.0.1
class ConcurrencyTestCase(TransactionTestCase):
    serialized_rollback = True  # the Site row the data migration wrote

    def setUp(self):
        self.post = make_post("Caseloads", "How many is too many?")
        self.root = self.saved(text="Too many.")
        self.child = self.saved(self.root, "Agreed.")
        self.grandchild = self.saved(self.child, "Far too many.")
        self.other_child = self.saved(self.root, "It depends.")

    def saved(self, parent: Comment | None = None, text: str = "") -> Comment:
        comment = Comment(
            content_object=self.post,
            site_id=1,
            user_name="Earlier reader",
            user_email="earlier@example.org",
            comment=text,
            parent_id=parent.pk if parent else 0,
        )
        comment.save()
        return comment


class ConcurrentRepliesTests(ConcurrencyTestCase):
    def test_signed_in_readers_replying_at_once_each_take_their_own_place(self):
        parents = [self.root, self.child, self.grandchild, self.other_child]
        clients = []
        for i in range(READERS):
            client = Client()
            client.force_login(make_user(f"reader{i}", email=f"reader{i}@example.org"))
            data = form_data(self.post, reply_to=parents[i % len(parents)].pk,
                             comment=f"Reply {i}.")  # fmt: skip
            clients.append((client, data))
        before = Comment.objects.count()

        statuses = at_once(
            [lambda c=c, d=d: c.post("/comments/post/", d).status_code for c, d in clients]
        )

        self.assertEqual(statuses, [302] * READERS)
        self.assertEqual(Comment.objects.count(), before + READERS)
        rows = assert_consistent_thread(self, self.root.thread_id)
        self.assertEqual(len(rows), 4 + READERS)
        self.assertEqual(
            sorted(row.comment for row in rows if row.comment.startswith("Reply")),
            sorted(f"Reply {i}." for i in range(READERS)),
        )

    def test_replies_to_different_threads_at_once_leave_both_consistent(self):
        second = self.saved(text="A second thread.")
        parents = [self.root, second, self.child, second]
        clients = []
        for i in range(READERS):
            client = Client()
            client.force_login(make_user(f"reader{i}"))
            data = form_data(self.post, reply_to=parents[i % len(parents)].pk,
                             comment=f"Reply {i}.")  # fmt: skip
            clients.append((client, data))

        statuses = at_once(
            [lambda c=c, d=d: c.post("/comments/post/", d).status_code for c, d in clients]
        )

        self.assertEqual(statuses, [302] * READERS)
        self.assertEqual(len(assert_consistent_thread(self, self.root.thread_id)), 4 + READERS // 2)
        self.assertEqual(len(assert_consistent_thread(self, second.thread_id)), 1 + READERS // 2)


class ConcurrentConfirmationTests(ConcurrencyTestCase):
    def confirmation_links(self, parents: list[Comment]) -> list[str]:
        """Anonymous readers' replies, posted; the links e-mailed to them."""
        links = []
        for i, parent in enumerate(parents):
            data = form_data(self.post, reply_to=parent.pk, name=f"Reader {i}",
                             email=f"r{i}@example.org", comment=f"Confirmed {i}.")  # fmt: skip
            self.assertEqual(Client().post("/comments/post/", data).status_code, 302)
            links.append(confirmation_path(mail.outbox[-1]))
        return links

    def test_readers_confirming_replies_at_once_each_take_their_own_place(self):
        parents = [self.root, self.child, self.grandchild, self.other_child]
        links = self.confirmation_links([parents[i % 4] for i in range(READERS)])

        statuses = at_once([lambda link=link: Client().post(link).status_code for link in links])

        self.assertEqual(statuses, [302] * READERS)
        rows = assert_consistent_thread(self, self.root.thread_id)
        self.assertEqual(len(rows), 4 + READERS)

    def test_one_link_followed_several_times_at_once_stores_one_comment(self):
        [link] = self.confirmation_links([self.child])
        before = Comment.objects.count()

        responses = at_once([lambda: Client().post(link) for _ in range(8)])

        # One press publishes; each of the others finds the link used, under the post's
        # lock or by the unique digest, and says so.
        published = [r for r in responses if r.status_code == 302]
        self.assertEqual(len(published), 1)
        comment = Comment.objects.get(comment="Confirmed 0.")
        self.assertEqual(published[0]["Location"], comment.get_absolute_url())
        for response in responses:
            if response.status_code != 302:
                self.assertContains(response, "This link has already been used")
                self.assertContains(response, f'href="{comment.get_absolute_url()}"')
        self.assertEqual(Comment.objects.count(), before + 1)
        self.assertEqual(UsedConfirmationLink.objects.count(), 1)
        self.assertEqual(len([m for m in mail.outbox if m.to == ["moderator@example.org"]]), 1)
        assert_consistent_thread(self, self.root.thread_id)
