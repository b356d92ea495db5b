"""The Site row follows settings.SITE_DOMAIN and SITE_NAME.

Comments' redirects and the links in e-mails and feeds are built from the Site, so it
must never keep Django's example.com, nor a domain from an earlier configuration.
"""

from django.conf import settings


def sync_site(**kwargs) -> None:
    """post_migrate receiver: bring the Site row in line with settings."""
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": settings.SITE_DOMAIN, "name": settings.SITE_NAME},
    )
    Site.objects.clear_cache()


def absolute_url(path: str) -> str:
    """``path`` as a full address on this site, for e-mails (which have no request)."""
    from django.contrib.sites.models import Site

    return f"{settings.SITE_SCHEME}://{Site.objects.get_current().domain}{path}"
