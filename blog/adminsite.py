"""The admin as staff meet it: the blog's name in its header, a menu grouped by what an
editor does, and a desk for its first page (blog.desk).

Made the default admin site by BlogAdminConfig (blog.apps), so that every ModelAdmin,
ours and the libraries' (django-axes, django-comments-xtd, taggit), registers on it as
it always has; nothing here changes what a user may see or do: the groups are made
from Django's own app list, which has already left out what the user may not see.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from .desk import desk_context

# The menu: (label, name, the models in it as "app_label.model_name", in this order).
# Models not named here go under SETTINGS, by application. Models an installation
# lacks are left out.
GROUPS: list[tuple[str, str, list[str]]] = [
    ("writing", "Writing", ["blog.post", "blog.page", "blog.image", "blog.author"]),
    ("discussion", "Discussion", ["blog.comment", "django_comments_xtd.blacklisteddomain"]),
    # Readers following by e-mail, the mailings sent them, and every e-mail the site sends.
    ("mail", "E-mail", ["blog.follower", "blog.mailing", "blog.outgoingmail"]),
    ("people", "People", ["auth.user", "auth.group"]),
]
SETTINGS = ("settings", "Settings")
# Menu names in plain words where the library's say something else.
MENU_NAMES = {
    "django_comments_xtd.blacklisteddomain": "Blocked domains",
    "blog.image": "Media",
}
# Under SETTINGS, what each application is for, rather than its package's name.
APP_NAMES = {
    "axes": "Sign-in",
    "django_comments": "Discussion",
    "sites": "Site",
    "taggit": "Tagging",
}


def model_key(app: dict, model: dict) -> str:
    return f"{app['app_label']}.{model['object_name'].lower()}"


def group_apps(app_list: list[dict]) -> list[dict]:
    """Django's app list (one entry an application) as the editor's menu: GROUPS, then
    every other model under SETTINGS, each with its application's name as
    ``app_name``. Every model of ``app_list`` is in exactly one group."""
    found: dict[str, dict] = {}
    for app in app_list:
        for model in app["models"]:
            key = model_key(app, model)
            found[key] = {
                **model,
                "name": MENU_NAMES.get(key, model["name"]),
                "app_name": APP_NAMES.get(app["app_label"], app["name"]),
            }
    groups = []
    for label, name, keys in GROUPS:
        models = [found.pop(key) for key in keys if key in found]
        if models:
            groups.append(_group(label, name, models))
    if found:
        rest = sorted(found.values(), key=lambda m: (m["app_name"].lower(), m["name"].lower()))
        groups.append(_group(*SETTINGS, rest, show_app_names=True))
    return groups


def _group(label: str, name: str, models: list[dict], show_app_names: bool = False) -> dict:
    # The keys of Django's app entries: the admin's templates read them. No app_url:
    # a group has no page of its own (admin/app_list.html shows its name unlinked).
    return {
        "name": name,
        "app_label": label,
        "app_url": "",
        "has_module_perms": True,
        "models": models,
        "show_app_names": show_app_names,
    }


class BlogAdminSite(admin.AdminSite):
    index_title = "Desk"
    index_template = "admin/desk.html"

    @property
    def site_header(self) -> str:
        return settings.SITE_NAME

    @property
    def site_title(self) -> str:
        return settings.SITE_NAME

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        app_list = super().get_app_list(request, app_label)
        # One application's own page (/admin/axes/) keeps Django's list of it.
        return app_list if app_label else group_apps(app_list)

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        return super().index(request, {**desk_context(request, self), **(extra_context or {})})
