"""`make reliability`: load and faults against the production server (see
docs/reliability.md). `python -m tests.reliability --help` for the options."""
