"""What readers get when the database fails mid-request: a connection killed or
dropped, the server restarting, SQLite's write lock not coming in time.

Such a fault is passing, so the answer is 503 ("try again shortly", with Retry-After)
rather than 500, and the broken connection is closed at once so the next query opens a
fresh one. (Between requests, CONN_HEALTH_CHECKS in production replaces a connection
that died while idle before the request uses it.) A view that saves what a reader wrote
answers with their text kept; if the database still fails, with a page that needs no
query.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve, reverse
from django.views import defaults

from ..discussion import links

logger = logging.getLogger(__name__)

# What a lost, refused or locked connection raises (IntegrityError and DataError are
# the request's own fault, and stay 4xx or 500).
DATABASE_FAULTS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
# Form fields the no-database page carries back as they came (the text is shown).
NOT_CARRIED = frozenset({"comment", "csrfmiddlewaretoken", "honeypot", "post", "preview"})
NOT_SAVED = (
    "The site could not save your comment just now, so it was not posted. Your text is "
    "kept: please send it again in a minute."
)
NOT_CONFIRMED = (
    "The site could not publish your comment just now. The link in your e-mail still "
    "works: please open it again in a minute and press the button."
)


def drop_broken_connections() -> None:
    """Close every connection that no longer answers. Django does not reconnect within
    a request, and a kept connection (CONN_MAX_AGE) would fail the next one too."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.is_usable():
            connection.close()


def retry_later(response: HttpResponse) -> HttpResponse:
    response.status_code = 503
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database fault gets the 503 page (rendered without a query),
    anything else Django's 500 page. Django logs either as an error, with the trace.

    A comment whose request failed before its view (the page cache's version look-up
    comes first) still gets its text back, in a form to send again."""
    if not isinstance(sys.exc_info()[1], DATABASE_FAULTS):
        return defaults.server_error(request)
    drop_broken_connections()
    if request.method == "POST" and request.path == reverse("comments-post-comment"):
        return retry_later(comment_not_saved_without_database(request, NOT_SAVED))
    if confirmation_key(request):
        return retry_later(comment_not_saved_without_database(request, NOT_CONFIRMED))
    return retry_later(HttpResponse(render_to_string("503.html")))


def confirmation_key(request: HttpRequest) -> str:
    """The key of a confirmation link being followed, or "". Resolved here because a
    fault before the view leaves the request unresolved."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    return match.kwargs.get("key", "") if match.url_name == "comments-xtd-confirm" else ""


def comment_not_saved_without_database(request: HttpRequest, message: str) -> HttpResponse:
    """The reader's text in a form that can be sent again, from the request alone."""
    # The reader's own CSRF token, from their cookie, when the fault came before the
    # CSRF middleware read it (as blog.pagecache does for the pages it serves).
    csrf = CsrfViewMiddleware(lambda request: HttpResponse())
    csrf.process_request(request)
    context = {
        "message": message,
        # A comment sent, or one carried by the confirmation link followed.
        "text": request.POST.get("comment", "")
        or links.confirmation_text(confirmation_key(request)),
        "carried": [(k, v) for k, v in request.POST.items() if k not in NOT_CARRIED],
        "csrf_token": get_token(request),
    }
    response = HttpResponse(render_to_string("blog/comment_not_saved.html", context))
    return csrf.process_response(request, response)


def keeps_text_on_database_fault(
    page: Callable[..., HttpResponse], message: str
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a view that saves a comment: when the database fails, nothing was saved
    (each save is one transaction, rolled back), and the answer is 503 with ``page``
    (called as the view was), which shows the reader's text and ``message``; if the
    database fails again meanwhile, a page that needs none."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DATABASE_FAULTS:
                logger.warning("Comment not saved: the database failed.", exc_info=True)
            drop_broken_connections()
            try:
                response = page(request, *args, **kwargs)
            except DATABASE_FAULTS:
                logger.warning("The database is still failing: a page without it.")
                drop_broken_connections()
                response = comment_not_saved_without_database(request, message)
            return retry_later(response)

        return wrapper

    return decorator
