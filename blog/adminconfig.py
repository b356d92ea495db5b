"""django.contrib.admin, with the blog's admin site (blog.adminsite) as the default one,
so that every app's admin.site.register() lands on it. (A module of its own: in
blog.apps, Django would take it for a second configuration of the blog app.)"""

from django.contrib.admin.apps import AdminConfig


class BlogAdminConfig(AdminConfig):
    default_site = "blog.adminsite.BlogAdminSite"
