"""``{% load pagecache_tags %}``: what a page the page cache may store needs of it
(blog.pagecache)."""

from __future__ import annotations

from django import template
from django.template.defaulttags import CsrfTokenNode
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..pagecache import csrf_placeholder, reader_name_placeholder

register = template.Library()


@register.simple_tag(takes_context=True)
def reader_csrf_token(context: template.Context) -> SafeString:
    """``{% csrf_token %}`` for a page the page cache may store: the field carries the
    response's own placeholder, which the cache replaces with each reader's token (and
    only it: never anything that merely looks like the field). On a page that is not
    going to be stored, the token itself, as ``{% csrf_token %}`` writes it."""
    placeholder = csrf_placeholder(context.get("request"))
    if placeholder is None:
        return CsrfTokenNode().render(context)
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', placeholder)


@register.simple_tag(takes_context=True)
def reader_name(context: template.Context) -> str:
    """The signed-in reader's name (escaped, as every simple tag's output), or, on a page
    the page cache may store for every signed-in reader, the response's placeholder,
    which the cache replaces with each reader's own."""
    placeholder = reader_name_placeholder(context.get("request"))
    if placeholder is not None:
        return placeholder
    user = context["user"]
    return user.get_full_name() or user.get_username()
