"""Tests that run the site on another domain and scheme, the Site row following
settings as blog.sites.sync_site makes it do after migrate."""

from django.contrib.sites.models import Site
from django.test import TestCase, override_settings

from blog.sites import sync_site

DOMAIN = "blog.example.org"
SCHEME = "https"
ROOT = f"{SCHEME}://{DOMAIN}"


@override_settings(SITE_DOMAIN=DOMAIN, SITE_SCHEME=SCHEME)
class OnSiteDomainTestCase(TestCase):
    @classmethod
    def setUpTestData(cls):
        sync_site()  # inside the class's transaction: rolled back after it

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        # Django caches the Site for the process: drop this class's domain with it.
        Site.objects.clear_cache()
