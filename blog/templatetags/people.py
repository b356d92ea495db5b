from django import template
from django.contrib.auth.models import AbstractBaseUser

from ..people import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user: AbstractBaseUser) -> str:
    """``{{ post.author|display_name }}``: the name readers see (blog.people)."""
    return _display_name(user)
