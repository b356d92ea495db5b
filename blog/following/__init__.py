"""Readers following the blog by e-mail: the form and its double opt-in (``views``,
``forms``, ``addresses``), the signed links in the e-mails (``links``), the mailing of
each new post and the weekly digest (``mailing``), and what staff see (``admin``).
Every e-mail goes through the outbox (blog.outbox)."""
