"""The readers' discussion of posts, built on django-comments-xtd. The Comment model is
the blog app's (blog.models.comments); everything else about comments is here:

- forms: the comment form (settings.COMMENTS_XTD_FORM_CLASS).
- views, urls: posting, confirming, replying, muting; the pages under /comments/.
- publishing: publish_comment(), the one way a comment is published, whoever the reader;
  sent_before(), the one rule for the same comment sent twice.
- moderation: who may comment, what is held for a moderator, and their notices.
- mail: the e-mails readers get (the confirmation request, follow-ups).
- links: the signed links those e-mails carry.
- ratelimit: comments per address per minute.
- paging: a post's discussion, a page of threads at a time.
- rendering: a comment's text as HTML, and a page's threads ({% load discussion %}).
- admin: the moderation queue in the admin (registered by blog.admin).

Nothing is imported here, so that any module can import one of these without the rest.
"""
