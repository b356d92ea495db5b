"""Keep a post's stored HTML in step with its references, however they change
(admin inline, shell, fixture)."""

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Post, Reference


@receiver(post_save, sender=Post)
def render_loaded_post(sender, instance: Post, raw: bool, **kwargs) -> None:
    # loaddata saves raw, bypassing Post.save(): render what the fixture brought.
    if raw:
        instance.refresh_body_html()


@receiver(post_save, sender=Reference)
@receiver(post_delete, sender=Reference)
def rerender_citing_post(sender, instance: Reference, origin=None, **kwargs) -> None:
    # When the post itself is being deleted its references go with it: nothing to render.
    if isinstance(origin, Post) or (isinstance(origin, QuerySet) and origin.model is Post):
        return
    post = Post.objects.filter(pk=instance.post_id).first()
    if post is not None:
        post.refresh_body_html()
