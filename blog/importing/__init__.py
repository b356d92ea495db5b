"""Bringing a blog here from Blogger or WordPress: ``import_file``.

A reader per export format turns the file into plain records (``records``), streamed
(``blogger``, ``wordpress``); the bodies' HTML becomes the site's Markdown on the way
(``convert``). One writer (``load``) writes the records through the site's write path
(blog.writing) and the discussion's (blog.discussion), in one transaction, and says
what it did (``report``).
"""
