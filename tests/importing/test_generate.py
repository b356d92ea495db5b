"""The large-export generator, at a small size: a valid WXR 1.2 the reader takes back
whole, with the counts, threads and states it promises, the same for the same seed."""

from __future__ import annotations

from collections import Counter

from blog.importing import wordpress
from blog.importing.records import CommentStatus, SourceComment, SourcePost
from tests.importing.generate import MAX_DEPTH, write_wordpress_export


def read_back(path) -> list:
    with open(path, "rb") as file:
        return list(wordpress.read(file))


def test_a_small_export_reads_back_with_the_counts_right(tmp_path):
    path = tmp_path / "export.xml"
    write_wordpress_export(path, posts=20, comments=200)
    stream = read_back(path)
    posts = [r for r in stream if isinstance(r, SourcePost)]
    comments = [r for r in stream if isinstance(r, SourceComment)]
    assert len(posts) == 20 and len(comments) == 200
    assert len({c.source_id for c in comments}) == 200
    assert all(p.tags and p.title and p.slug for p in posts)
    assert all("[1]" in p.body and "[2]" in p.body for p in posts)


def test_comments_are_threaded_and_spread_unevenly(tmp_path):
    path = tmp_path / "export.xml"
    write_wordpress_export(path, posts=50, comments=2000, seed=7)
    comments = [r for r in read_back(path) if isinstance(r, SourceComment)]
    by_id = {c.source_id: c for c in comments}

    def depth(comment: SourceComment) -> int:
        parent = comment.parent_source_id
        return 1 if not parent else 1 + depth(by_id[parent])

    depths = Counter(depth(c) for c in comments)
    assert max(depths) == MAX_DEPTH
    assert 0.3 < depths[1] / len(comments) < 0.55  # about 40% top-level
    assert all(
        by_id[c.parent_source_id].post_source_id == c.post_source_id
        for c in comments
        if c.parent_source_id
    )
    per_post = Counter(c.post_source_id for c in comments)
    assert max(per_post.values()) >= 100  # some posts with hundreds
    assert min(per_post.values()) < 2000 / 50 / 2  # and some with few
    statuses = Counter(c.status for c in comments)
    assert statuses[CommentStatus.PENDING] and statuses[CommentStatus.SPAM]
    assert statuses[CommentStatus.APPROVED] > 0.9 * len(comments)


def test_the_same_seed_gives_the_same_file(tmp_path):
    first, second, other = tmp_path / "a.xml", tmp_path / "b.xml", tmp_path / "c.xml"
    write_wordpress_export(first, posts=10, comments=50)
    write_wordpress_export(second, posts=10, comments=50)
    write_wordpress_export(other, posts=10, comments=50, seed=2)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
