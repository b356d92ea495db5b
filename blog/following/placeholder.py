"""PLACEHOLDER, to be replaced by the follow branch (its views of blog:follow-confirm and
blog:unfollow): only so that the mailing's links resolve before that branch is merged.
Drop this module and its two URL patterns at the merge."""

from django.http import Http404, HttpRequest, HttpResponse


def placeholder(request: HttpRequest, token: str) -> HttpResponse:
    raise Http404("Not yet built (the follow branch).")
