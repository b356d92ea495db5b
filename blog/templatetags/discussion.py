"""``{% load discussion %}``: the discussion's filters and tags. Django looks for tag
libraries in an app's templatetags package; the library itself is the discussion's
(blog.discussion.rendering)."""

from blog.discussion.rendering import register

__all__ = ["register"]
