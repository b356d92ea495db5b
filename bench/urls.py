"""The site's addresses plus /bench/hello/, which exists only in benchmark runs: the
cost of the Django stack itself, to compare the real pages with."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Hello")


urlpatterns = [path("bench/hello/", hello, name="bench-hello"), *site_urlpatterns]
