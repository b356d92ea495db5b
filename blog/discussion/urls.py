"""The discussion's addresses under /comments/, with the names django-comments-xtd and
django-contrib-comments reverse. Only what this site uses is routed: not the library's
REST API (it serves the stock React front end, which we do not use, and exposes a
hash of each commenter's e-mail), nor flagging and likes, which are turned off."""

from django.urls import path, register_converter
from django_comments.views import moderation

from .. import converters
from . import views

register_converter(converters.IdConverter, "id")

urlpatterns = [
    path("post/", views.post_comment, name="comments-post-comment"),
    path("sent/", views.sent, name="comments-xtd-sent"),
    path("confirm/<str:key>/", views.confirm, name="comments-xtd-confirm"),
    path("mute/<str:key>/", views.mute, name="comments-xtd-mute"),
    path("reply/<id:cid>/", views.reply, name="comments-xtd-reply"),
    # Staff with django_comments.can_moderate: one-click pages linked from the site
    # and from the moderators' e-mails.
    path("delete/<id:comment_id>/", moderation.delete, name="comments-delete"),
    path(
        "deleted/",
        views.moderators_only(moderation.delete_done),
        name="comments-delete-done",
    ),
    path("approve/<id:comment_id>/", moderation.approve, name="comments-approve"),
    path(
        "approved/",
        views.moderators_only(moderation.approve_done),
        name="comments-approve-done",
    ),
]
