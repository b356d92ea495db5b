"""Admin addresses with a NUL character in their query string are refused with a 400.

PostgreSQL cannot hold NUL in text, so a NUL that reaches a query there fails in the
database (a 500): the admin's lists pass their query string to the database as filters
(``?object_pk=%00``, ``?username=%00``). Forms refuse NUL themselves (Django's
ProhibitNullCharactersValidator), and the readers' pages that read a query string
(search, page numbers) parse it first, NUL only ever separating words.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import reverse

MESSAGE = "This address holds a NUL character (%00), which the admin does not accept."


def has_nul(request: HttpRequest) -> bool:
    return any("\x00" in key or "\x00" in "".join(values) for key, values in request.GET.lists())


class RefuseNulInAdminQueryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(reverse("admin:index")) and has_nul(request):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
