"""E-mail as production sends it: a real SMTP server on loopback (smtp.SmtpSink), the
worker as a real process (`manage.py worker`, RQ's `rqworker`) on a database of
the tests' own, and the faults the outbox is for (the mail server down, the worker
stopped mid-mailing). Marked ``e2e``: `pytest -m "not e2e"` leaves them out."""
