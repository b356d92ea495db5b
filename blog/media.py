"""Uploaded images: stored once with their location and camera data stripped, and
made into renditions of several widths and formats when they are uploaded, so that
pages can offer each reader's screen the size it needs (srcset) and reserve its place
(width, height) with no work at request time.

The write path (blog.writing) asks ``images_in()`` which uploaded images the bodies it
renders show, hands them to the renderer (blog.markup), and records where each image
is used (``record_uses``) for the admin's media list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import models


def images_in(bodies: Iterable[str]) -> Mapping[str, Any]:
    """The uploaded images the Markdown ``bodies`` show, by the address they use."""
    return {}


def record_uses(objects: Sequence[models.Model], images: Mapping[str, Any]) -> None:
    """Record which of ``images`` each post or page (all of one model) now shows."""
