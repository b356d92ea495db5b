"""manage.py import_wordpress FILE: a WordPress export (WXR), brought into the site."""

from blog.importing.command import ImportCommand


class Command(ImportCommand):
    platform = "wordpress"
    export_name = "a WordPress export (WXR)"
