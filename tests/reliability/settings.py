"""The production settings for `make reliability` and tests/test_reliability.py.

One change, because every client of the load test is one machine on loopback: the
per-address comment limit is raised (500 comments from 127.0.0.1 in a minute would be
refused at the fifth). The limit stays on, not off: the harness still exercises the
rate limit's cache counter, which is what stops working when the cache does.

E-mail goes as in production, by the worker `make serve` starts beside gunicorn, over
SMTP: to the harness's own server on loopback (tests/mail/smtp.py, port
RELIABILITY_SMTP_PORT), where it reads the confirmation links an anonymous commenter
would follow, and which it stops in the mail-server scenario.
"""

import os

from config.settings.prod import *  # noqa: F403

BLOG_COMMENTS_RATE_LIMIT = 1_000_000
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["RELIABILITY_SMTP_PORT"])
# Whatever a `.env` says: the harness's server takes no credentials and offers no TLS.
EMAIL_HOST_USER = ""
EMAIL_HOST_PASSWORD = ""  # nosec B105 # none: the harness's own server on loopback
EMAIL_USE_TLS = False
