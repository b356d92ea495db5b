"""What the site does when something under it fails or is fed what it cannot hold: the
cache (cachefaults), the database (dbfaults), a NUL character bound for PostgreSQL
(nulbytes)."""
