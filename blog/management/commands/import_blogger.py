"""manage.py import_blogger FILE: a Blogger export (Back up content: an Atom file),
brought into the site."""

from blog.importing.command import ImportCommand


class Command(ImportCommand):
    platform = "blogger"
    export_name = "a Blogger export (Back up content: an Atom file)"
