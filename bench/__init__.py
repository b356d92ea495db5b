"""`make bench`: the production server under load, at two sizes of data (see run.py)."""
