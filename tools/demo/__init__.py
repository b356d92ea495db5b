"""Demo data for trying the site at scale (``manage.py seed_demo``): a development app,
installed by the development, test and benchmark settings, never by production's.

Two halves: ``plan`` decides everything from the arguments alone, so the same arguments
always make the same data; ``write`` puts a plan into the database in bulk. ``words``
holds the made-up text both draw on.

Demo data is marked as such: its posts are written by the ``demo-data`` user, their
slugs start with ``demo-``, each body opens by saying where it came from, and its
commenters are "Demo reader N" at addresses under ``example.invalid``.
"""
