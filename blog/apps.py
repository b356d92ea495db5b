from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Blog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate, post_save, pre_save
        from django_comments_xtd.moderation import moderator
        from django_tasks.signals import task_finished

        from . import outbox, signals, upkeep  # noqa: F401 (signals: connects the receivers)
        from .discussion.moderation import (
            PostModerator,
            notify_when_published,
            remember_visibility,
        )
        from .discussion.publishing import use_our_receiver
        from .following.mailing import message_for
        from .models import Comment, Post
        from .pagecache import invalidate
        from .revisions import register_models
        from .sites import sync_site

        register_models()
        # The worker's quarter-hourly round of mail upkeep starts with its first task.
        task_finished.connect(upkeep.on_task_finished, weak=False)
        # The outbox sends a mailing's rows; the mailing knows what each says.
        outbox.build_mailings_with(message_for)
        post_migrate.connect(sync_site, sender=self)
        # A deploy may change templates: pages cached before it are not reused.
        post_migrate.connect(lambda **kwargs: invalidate(), sender=self, weak=False)
        moderator.register(Post, PostModerator)
        pre_save.connect(remember_visibility, sender=Comment)
        post_save.connect(notify_when_published, sender=Comment)
        # Comments are published by blog.discussion.publishing, and e-mailed links are
        # signed JSON (blog.discussion.links), never the library's pickles.
        use_our_receiver()
