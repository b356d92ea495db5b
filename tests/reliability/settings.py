"""The production settings for `make reliability` and tests/test_reliability.py.

Two changes, both because every client of the load test is one machine on loopback:
the per-address comment limit is raised (500 comments from 127.0.0.1 in a minute
would be refused at the fifth), and e-mail is written to files, so that the harness
can follow the confirmation links an anonymous commenter would follow.
The limit stays on, not off: the harness still exercises the rate limit's cache
counter, which is what stops working when the cache does.
"""

import os

from config.settings.prod import *  # noqa: F403

BLOG_COMMENTS_RATE_LIMIT = 1_000_000
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["RELIABILITY_MAIL_DIR"]
