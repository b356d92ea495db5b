"""A post's or a page's revisions in the admin: the list, a diff between any two, and
Restore, which saves the chosen revision again through the one write path
(blog.writing) and so is itself a new revision.

A revision (blog.revisions) holds the object's version and, for a post, the versions of
its references, taggings and tags. What is shown and restored is read from those
versions as a ``Snapshot``; the object as it stands now is read into one the same way,
so that "compare with current" and a compare of two revisions are the same code.

Restore does not use reversion's ``Version.revert()`` / ``Revision.revert()``: they save
the rows raw (no rendered body, no search document, no page-cache token, no new
revision) and ``delete=True`` deletes rows by their old ids. Restore instead gives the
snapshot's fields, references and tags to ``save_post`` / ``save_page``.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from reversion.models import Version

from .converters import parse_id
from .models import Page, Post, Reference, TaggedPost
from .people import display_name
from .revisions import versions_of
from .writing import post_writes, save_page, save_post

PER_PAGE = 50
DIFF_CONTEXT = 3  # unchanged lines kept around each change of the body
CURRENT = "current"
# What a restore writes back, and what a diff shows besides the body (in this order).
# The rest is derived (body_html), the write path's own (updated_at) or an import's.
RESTORED_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Post: (
        "title",
        "slug",
        "status",
        "published_at",
        "author",
        "allow_comments",
        "call_for_answers",
    ),
    Page: ("title", "slug", "status", "in_navigation", "navigation_order"),
}


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "j M Y, H:i")


@dataclass
class Snapshot:
    """An object's content as a revision kept it (or as it stands now)."""

    fields: dict[str, Any]  # by attname: "author_id"
    body: str
    # number → (citation, URL); None for a model without references (a page).
    references: dict[int, tuple[str, str]] | None = None
    tags: set[str] = field(default_factory=set)

    @classmethod
    def of_versions(cls, model: type[models.Model], versions: list[Version]) -> Snapshot:
        """From the versions of one revision (the object's, and a post's parts')."""
        main, references, tag_ids, tag_names = None, {}, [], {}
        for version in versions:
            kind = version._model
            data = version.field_dict
            if kind is model:
                main = data
            elif kind is Reference:
                references[data["number"]] = (data["citation"], data["url"])
            elif kind is TaggedPost:
                tag_ids.append(data["tag_id"])
            else:  # a tag
                tag_names[int(version.object_id)] = data["name"]
        if main is None:
            raise Http404("This revision holds no version of the object.")
        return cls(
            fields=main,
            body=main.get("body", ""),
            references=references if model is Post else None,
            tags={tag_names[pk] for pk in tag_ids if pk in tag_names},
        )

    @classmethod
    def of_object(cls, obj: models.Model) -> Snapshot:
        fields = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
        if isinstance(obj, Post):
            return cls(
                fields=fields,
                body=obj.body,
                references={r.number: (r.citation, r.url) for r in obj.references.all()},
                tags={tag.name for tag in obj.tags.all()},
            )
        return cls(fields=fields, body=obj.body)


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Diff:
    fields: list[Change]
    # Unified, by line: (kind, old line number, new line number, text); kind is
    # "context", "removed", "added" or "gap" (unchanged lines left out).
    body: list[tuple[str, int | None, int | None, str]]
    references_added: list[tuple[int, str, str]]
    references_removed: list[tuple[int, str, str]]
    references_changed: list[tuple[int, tuple[str, str], tuple[str, str]]]
    tags_added: list[str]
    tags_removed: list[str]
    has_references: bool

    @property
    def empty(self) -> bool:
        return not (self.fields or self.body or self.references_added or self.tags_added
                    or self.references_removed or self.references_changed
                    or self.tags_removed)  # fmt: skip


def body_diff(old: str, new: str) -> list[tuple[str, int | None, int | None, str]]:
    """The body's changed lines, with a few unchanged ones around each change."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[tuple[str, int | None, int | None, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for n, group in enumerate(matcher.get_grouped_opcodes(DIFF_CONTEXT)):
        if n or group[0][1] > 0:
            rows.append(("gap", None, None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [("context", i + 1, j + 1, a[i]) for i, j in
                         zip(range(i1, i2), range(j1, j2), strict=True)]  # fmt: skip
                continue
            rows += [("removed", i + 1, None, a[i]) for i in range(i1, i2)]
            rows += [("added", None, j + 1, b[j]) for j in range(j1, j2)]
    return rows


def _display(model: type[models.Model], name: str, value: Any, users: dict) -> str:
    model_field = model._meta.get_field(name)
    if value is None:
        return "—"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.DateTimeField):
        return _when(value)
    if isinstance(model_field, models.BooleanField):
        return "Yes" if value else "No"
    if isinstance(model_field, models.ForeignKey):
        user = users.get(value)
        return display_name(user) if user else f"(a deleted user, #{value})"
    return str(value)


def diff(model: type[models.Model], old: Snapshot, new: Snapshot) -> Diff:
    """What changed from ``old`` to ``new``: one query (the authors named), or none."""
    names = RESTORED_FIELDS[model]
    changed = [
        name
        for name in names
        if old.fields.get(model._meta.get_field(name).attname)
        != new.fields.get(model._meta.get_field(name).attname)
    ]
    user_ids = {
        snapshot.fields.get("author_id") for snapshot in (old, new) if "author" in changed
    } - {None}
    users = get_user_model().objects.in_bulk(user_ids) if user_ids else {}
    fields = []
    for name in changed:
        model_field = model._meta.get_field(name)
        attname = model_field.attname
        change = Change(
            str(model_field.verbose_name).capitalize(),
            _display(model, name, old.fields.get(attname), users),
            _display(model, name, new.fields.get(attname), users),
        )
        # A time that differs only in its seconds (a form keeps none) is no change
        # anyone reading the diff could see; a restore still puts it back exactly.
        if change.old != change.new:
            fields.append(change)
    old_refs, new_refs = old.references or {}, new.references or {}
    return Diff(
        fields=fields,
        body=body_diff(old.body, new.body),
        references_added=[(n, *new_refs[n]) for n in sorted(new_refs.keys() - old_refs.keys())],
        references_removed=[(n, *old_refs[n]) for n in sorted(old_refs.keys() - new_refs.keys())],
        references_changed=[
            (n, old_refs[n], new_refs[n])
            for n in sorted(old_refs.keys() & new_refs.keys())
            if old_refs[n] != new_refs[n]
        ],
        tags_added=sorted(new.tags - old.tags, key=str.casefold),
        tags_removed=sorted(old.tags - new.tags, key=str.casefold),
        has_references=model is Post,
    )


def restore(
    obj: Post | Page, snapshot: Snapshot, *, user, reason: str
) -> tuple[Post | Page, list[str]]:
    """Write ``snapshot`` over ``obj`` through the write path; returns the object as
    saved and what could not be put back as it was (a slug another post or page has
    taken since, a deleted author)."""
    model = type(obj)
    kept_back = []
    # post_writes is atomic: the lock below is held until the write is done.
    with post_writes(user=user, reason=reason):
        # Locked, so that two restores (or a restore and a save) do not interleave.
        obj = model._base_manager.select_for_update().get(pk=obj.pk)
        for name in RESTORED_FIELDS[model]:
            attname = model._meta.get_field(name).attname
            if attname in snapshot.fields:
                setattr(obj, attname, snapshot.fields[attname])
        obj.body = snapshot.body
        slug = snapshot.fields.get("slug")
        if slug and model._base_manager.filter(slug=slug).exclude(pk=obj.pk).exists():
            obj.slug = model._base_manager.values_list("slug", flat=True).get(pk=obj.pk)
            kept_back.append(f"the address “{slug}”, which another one uses now")
        if model is Post:
            author_id = snapshot.fields.get("author_id")
            if not get_user_model().objects.filter(pk=author_id).exists():
                obj.author_id = model._base_manager.values_list("author_id", flat=True).get(
                    pk=obj.pk
                )
                kept_back.append("the author, who no longer has an account")
            save_post(
                obj,
                references=[
                    Reference(number=n, citation=citation, url=url)
                    for n, (citation, url) in sorted((snapshot.references or {}).items())
                ],
                tags=sorted(snapshot.tags),
            )
        else:
            save_page(obj)
    return obj, kept_back


class RevisionsAdminMixin:
    """Added to the ModelAdmin of each model registered in blog.revisions (Post, Page).

    Its views: ``<id>/revisions/``, ``<id>/revisions/compare/?from=A&to=B`` (version ids,
    or "current") and ``<id>/revisions/<version_id>/restore/``, named
    ``admin:<app>_<model>_revisions`` and so on."""

    revisions_per_page = PER_PAGE

    def get_urls(self) -> list:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        view = self.admin_site.admin_view
        urls = [
            path("<path:object_id>/revisions/", view(self.revisions_view),
                 name=f"{info}_revisions"),
            path("<path:object_id>/revisions/compare/", view(self.revisions_compare_view),
                 name=f"{info}_revisions_compare"),
            path("<path:object_id>/revisions/<int:version_id>/restore/",
                 view(self.revisions_restore_view), name=f"{info}_revisions_restore"),
        ]  # fmt: skip
        return [*urls, *super().get_urls()]

    def render_change_form(self, request: HttpRequest, context: dict, *args, **kwargs):
        # Read by admin/blog/change_form_object_tools.html, beside the stock "History".
        obj = kwargs.get("obj") or context.get("original")
        if obj is not None and obj.pk:
            context["revisions_url"] = self._revisions_url("revisions", obj)
        return super().render_change_form(request, context, *args, **kwargs)

    # The pieces -----------------------------------------------------------------------

    def _revisions_url(self, name: str, obj: models.Model, *args: Any) -> str:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return reverse(
            f"admin:{info}_{name}", args=(quote(obj.pk), *args), current_app=self.admin_site.name
        )

    def _changeable(self, request: HttpRequest, object_id: str) -> models.Model:
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _current(self, obj: models.Model) -> Snapshot:
        if isinstance(obj, Post):
            obj = Post._base_manager.prefetch_related("references", "tags").get(pk=obj.pk)
        return Snapshot.of_object(obj)

    def _versions(self, obj: models.Model, ids: list[int]) -> dict[int, Version]:
        """The object's versions of these ids, each with its revision and the revision's
        other versions (two queries); any other id is a 404."""
        if any(parse_id(pk) is None for pk in ids):  # beyond what the database holds
            raise Http404("No such revision of this object.")
        versions = {version.pk: version for version in versions_of(obj).filter(pk__in=ids)}
        if set(ids) - versions.keys():
            raise Http404("No such revision of this object.")
        parts = Version.objects.filter(revision_id__in=[v.revision_id for v in versions.values()])
        by_revision = {
            revision: list(rows)
            for revision, rows in itertools.groupby(
                parts.order_by("revision_id", "pk"), key=lambda v: v.revision_id
            )
        }
        for version in versions.values():
            version.snapshot = Snapshot.of_versions(
                type(obj), by_revision.get(version.revision_id, [])
            )
        return versions

    def _context(self, request: HttpRequest, obj: models.Model, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": obj,
            "object": obj,
            "title": title,
            "subtitle": str(obj),
            "revisions_url": self._revisions_url("revisions", obj),
            "compare_url": self._revisions_url("revisions_compare", obj),
            "change_url": reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=(quote(obj.pk),),
                current_app=self.admin_site.name,
            ),
            **extra,
        }

    def _label(self, version: Version) -> str:
        return f"the revision of {_when(version.revision.date_created)} by {self._who(version)}"

    @staticmethod
    def _who(version: Version) -> str:
        user = version.revision.user
        # No one signed in: the fixture, an import or a shell wrote it.
        return display_name(user) if user else "a command"

    # The views --------------------------------------------------------------------

    def revisions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The object's revisions, the newest first, a page of them at a time."""
        obj = self._changeable(request, object_id)
        page = Paginator(versions_of(obj), self.revisions_per_page).get_page(
            request.GET.get("page")
        )
        rows = [
            {
                "version": version,
                "when": _when(version.revision.date_created),
                "who": self._who(version),
                "reason": version.revision.comment,
                "restore_url": self._revisions_url("revisions_restore", obj, version.pk),
            }
            for version in page.object_list
        ]
        context = self._context(request, obj, "Revisions", page=page, rows=rows)
        return TemplateResponse(request, "admin/blog/revisions/list.html", context)

    def revisions_compare_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        obj = self._changeable(request, object_id)
        wanted = [request.GET.get("from", ""), request.GET.get("to", CURRENT) or CURRENT]
        ids = []
        for value in wanted:
            if value != CURRENT:
                if not value.isdigit():
                    return HttpResponseBadRequest(
                        "Choose two revisions to compare: ?from=…&to=… (a revision or current)."
                    )
                ids.append(int(value))
        versions = self._versions(obj, ids)
        sides = []
        for value in wanted:
            if value == CURRENT:
                sides.append(("the current version", self._current(obj)))
            else:
                version = versions[int(value)]
                sides.append((self._label(version), version.snapshot))
        (old_label, old), (new_label, new) = sides
        context = self._context(
            request, obj, "Compare revisions",
            diff=diff(type(obj), old, new), old_label=old_label, new_label=new_label,
            restore_url=(self._revisions_url("revisions_restore", obj, int(wanted[0]))
                         if wanted[0] != CURRENT else None),
        )  # fmt: skip
        return TemplateResponse(request, "admin/blog/revisions/compare.html", context)

    def revisions_restore_view(
        self, request: HttpRequest, object_id: str, version_id: int
    ) -> HttpResponse:
        """GET: what a restore would change; POST (with the CSRF token, which the admin
        site checks): the restore."""
        if request.method not in ("GET", "HEAD", "POST"):
            return HttpResponseNotAllowed(["GET", "POST"])
        obj = self._changeable(request, object_id)
        version = self._versions(obj, [version_id])[version_id]
        label = self._label(version)
        if request.method == "POST":
            obj, kept_back = restore(
                obj, version.snapshot, user=request.user, reason=f"Restored from {label}"
            )
            self.message_user(request, f"“{obj}” is restored from {label}.", messages.SUCCESS)
            if kept_back:
                self.message_user(
                    request, "Kept as it was: " + "; ".join(kept_back) + ".", messages.WARNING
                )
            return HttpResponseRedirect(self._revisions_url("revisions", obj))
        context = self._context(
            request, obj, "Restore this revision?",
            diff=diff(type(obj), self._current(obj), version.snapshot),
            old_label="the current version",
            new_label=label,
            when=_when(version.revision.date_created), who=self._who(version),
        )  # fmt: skip
        return TemplateResponse(request, "admin/blog/revisions/restore.html", context)
