"""Every e-mail the site sends, kept until it is sent (``OutgoingMail``), and the
readers who follow the blog by e-mail (``Follower``) with the mailings of new posts and
weekly digests sent to them (``Mailing``).

An e-mail is a row before it is anything else: the request that causes one writes the
row in its own transaction, and a worker sends it (blog.outbox). A mail server that is
down delays it; it cannot lose it or fail the request. A mailing's e-mails are rows too,
one per follower, unique per mailing and follower: that row is what makes a mailing
stopped half way and started again send each follower one e-mail, not two.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from taggit.models import Tag

from .posts import Post


class Follower(models.Model):
    """A reader who asked for new posts by e-mail: all of them (``tag`` empty) or those
    with one tag, each as it is published or in a weekly digest. Nothing but the
    request to confirm is sent until ``confirmed_at`` is set; unsubscribing deletes
    the row, so that nothing is kept of a reader who has gone."""

    class Frequency(models.TextChoices):
        EACH_POST = "post", "Each new post"
        WEEKLY = "weekly", "A weekly digest"

    # In the one spelling blog.following.addresses gives it: what unique compares.
    email = models.EmailField(max_length=254)
    tag = models.ForeignKey(
        Tag,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every new post.",
    )
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.EACH_POST
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One following of all posts per address, and one per address and tag.
            models.UniqueConstraint(
                fields=["email"], condition=Q(tag__isnull=True), name="follower_all_posts_once"
            ),
            models.UniqueConstraint(
                fields=["email", "tag"], condition=Q(tag__isnull=False), name="follower_tag_once"
            ),
        ]
        indexes = [models.Index(fields=["confirmed_at", "frequency"], name="follower_mailing_idx")]

    def __str__(self) -> str:
        return f"{self.email} ({self.tag.name if self.tag_id else 'all posts'})"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Mailing(models.Model):
    """One post sent to its followers, or one week's digest sent to those who chose it.
    The post (or the week) is unique: a post published, unpublished and published
    again is mailed once."""

    class Kind(models.TextChoices):
        POST = "post", "New post"
        DIGEST = "digest", "Weekly digest"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.OneToOneField(
        Post, null=True, blank=True, on_delete=models.CASCADE, related_name="mailing"
    )
    # A digest's week: the date of the Monday it starts on, in the site's time zone.
    week = models.DateField(null=True, blank=True, unique=True)
    # When it is to go out: the post's publication time, the end of the digest's week.
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Set once its e-mails (one per follower) have been written, with how many.
    started_at = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_at", "-pk"]

    def __str__(self) -> str:
        if self.kind == self.Kind.DIGEST:
            return f"Digest for the week of {self.week:%-d %B %Y}"
        return f"New post: {self.post.display_title if self.post_id else '(deleted)'}"


class OutgoingMail(models.Model):
    """One e-mail to one address, from the moment something asks for it until it is
    sent or given up on. A mailing's e-mails keep no text of their own: each is built
    from its mailing and follower as it is sent (blog.following.mailing), so that a
    post mailed to 10,000 followers is not stored 10,000 times."""

    class Kind(models.TextChoices):
        COMMENT_CONFIRMATION = "comment-confirm", "Comment confirmation"
        COMMENT_FOLLOWUP = "comment-followup", "New comment in a followed discussion"
        MODERATOR_NOTICE = "moderator", "Moderators' notice"
        FOLLOW_CONFIRMATION = "follow-confirm", "Follow confirmation"
        NEW_POST = "new-post", "New post"
        DIGEST = "digest", "Weekly digest"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Not sent"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    mailing = models.ForeignKey(
        Mailing, null=True, blank=True, on_delete=models.CASCADE, related_name="mails"
    )
    # Emptied when the follower unsubscribes: their waiting e-mails are then not sent.
    follower = models.ForeignKey(
        Follower, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    # Which worker's run took it to send: two workers never send the same row.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outgoing e-mail"
        verbose_name_plural = "outgoing e-mail"
        ordering = ["-created_at", "-pk"]
        constraints = [
            # The idempotency record: one e-mail per mailing and follower, ever.
            models.UniqueConstraint(
                fields=["mailing", "follower"],
                condition=Q(mailing__isnull=False, follower__isnull=False),
                name="outgoingmail_once_per_follower",
            ),
            # And one per mailing and address: an address following every post and a
            # tag is two followers but one reader, who gets the post once. It holds
            # across runs too: a mailing started again after a new following of the
            # same address was confirmed writes no second e-mail to it.
            models.UniqueConstraint(
                fields=["mailing", "to"],
                condition=Q(mailing__isnull=False),
                name="outgoingmail_once_per_address",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outgoingmail_due_idx"),
            models.Index(fields=["mailing", "status"], name="outgoingmail_mailing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}"
