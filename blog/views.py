from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.utils.dateformat import format as date_format
from django.utils.http import urlencode
from django.views.generic import DetailView, ListView, TemplateView
from django.views.generic.dates import (
    DateDetailView,
    DayArchiveView,
    MonthArchiveView,
    YearArchiveView,
)
from taggit.models import Tag

from . import media
from .discussion.links import describe_max_age
from .discussion.paging import CommentPageNotFound, load_discussion, with_thread_counts
from .durations import a_period, in_words
from .following.links import CONFIRM_MAX_AGE
from .models import DISCUSSED_ORDER, Author, Page, Post
from .operations.privacy import ERASED_NAME, ERASED_TEXT, retention_days
from .pagecache import cached_fragment
from .pageslugs import PRIVACY_PAGE_SLUG
from .search import QueryTooLong, Results, matching_pages, parse_query
from .sources import Work, attach_citing_posts, attach_other_citations, published_works
from .tagging import tag_counts


def titles(posts) -> str:
    """The posts' titles (an untitled post's opening words), for a description, ending
    as a sentence ends ("… staying in?", not "… staying in?.")."""
    text = "; ".join(post.display_title for post in posts)
    return text if text.endswith((".", "?", "!", "…")) else f"{text}."


def page_suffix(context: dict) -> str:
    page = context.get("page_obj")
    return f", page {page.number}" if page is not None and page.number > 1 else ""


class PageMetaMixin:
    """A list page's own title and description for link previews and search engines
    (``meta_title``, ``meta_description``: includes/head_meta.html, and the page's
    description), from what the page already fetched: no query of its own."""

    def page_meta(self, context: dict) -> tuple[str, str]:
        raise NotImplementedError

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["meta_title"], context["meta_description"] = self.page_meta(context)
        return context


class PostDateMixin:
    """How the date-based views read a post's date and the URL's month."""

    date_field = "published_at"
    month_format = "%m"
    # Named, so that the date views need not build a queryset to learn the model.
    model = Post


class PostListMixin(PostDateMixin):
    """What every reader's list of posts shares: the published posts, newest first,
    with what their summaries show fetched in a fixed number of queries."""

    paginate_by = settings.BLOG_POSTS_PER_PAGE

    def get_queryset(self) -> QuerySet[Post]:
        return (
            Post.objects.published().select_related("author__author_profile").with_comment_counts()
        )

    def paginate_queryset(self, queryset: QuerySet[Post], page_size: int) -> tuple:
        # Tags are fetched for the page shown only: the date views also use
        # get_queryset() to look for neighbouring days, which need no tags.
        return super().paginate_queryset(queryset.prefetch_related("tags"), page_size)


def count_of_posts(n: int) -> str:
    return f"{n} post{'' if n == 1 else 's'}"


class PostIndexView(PageMetaMixin, PostListMixin, ListView):
    template_name = "blog/post_index.html"

    def page_meta(self, context: dict) -> tuple[str, str]:
        # The first page is the site's own card (its name and tagline).
        if not page_suffix(context):
            return settings.SITE_NAME, settings.SITE_TAGLINE
        return (
            f"Latest posts{page_suffix(context)}",
            f"Posts on {settings.SITE_NAME}{page_suffix(context)}: "
            f"{titles(context['object_list'])}",
        )


class PostYearArchiveView(PageMetaMixin, PostListMixin, YearArchiveView):
    paginate_by = None
    make_object_list = True
    template_name = "blog/post_archive_year.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        months: dict = {}
        for post in context["object_list"]:
            months.setdefault(post.published_on.replace(day=1), []).append(post)
        context["months"] = sorted(months.items(), reverse=True)
        return context

    def page_meta(self, context: dict) -> tuple[str, str]:
        # Before get_context_data above has grouped the posts by month: read them here.
        year = context["year"].year
        posts = context["object_list"]
        firsts = sorted({post.published_on.replace(day=1) for post in posts})
        months = ", ".join(date_format(month, "F") for month in firsts)
        return (
            f"Posts from {year}",
            f"{count_of_posts(len(posts))} from {year} on "
            f"{settings.SITE_NAME}, month by month: {months}.",
        )


def period_meta(context: dict, period: str, preposition: str) -> tuple[str, str]:
    """A paged month's or day's title and description: "April 2014", "7 posts from
    April 2014 on <site>: <their titles>"."""
    suffix = page_suffix(context)
    return (
        f"{period}{suffix}",
        f"{count_of_posts(context['paginator'].count)} {preposition} {period} on "
        f"{settings.SITE_NAME}{suffix}: {titles(context['object_list'])}",
    )


class PostMonthArchiveView(PageMetaMixin, PostListMixin, MonthArchiveView):
    template_name = "blog/post_archive_month.html"

    def page_meta(self, context: dict) -> tuple[str, str]:
        return period_meta(context, date_format(context["month"], "F Y"), "from")


class PostDayArchiveView(PageMetaMixin, PostListMixin, DayArchiveView):
    template_name = "blog/post_archive_day.html"

    def page_meta(self, context: dict) -> tuple[str, str]:
        return period_meta(context, date_format(context["day"], "l, j F Y"), "of")


class StaffDraftMixin:
    """A detail view that shows staff a draft (a post or a page readers cannot see yet):
    that response must never be kept by any cache."""

    def render_to_response(self, context, **response_kwargs) -> HttpResponse:
        response = super().render_to_response(context, **response_kwargs)
        if not self.object.is_public:
            add_never_cache_headers(response)
        return response


class PostDetailView(StaffDraftMixin, PostDateMixin, DateDetailView):
    # The queryset already hides what readers may not see; staff may preview
    # drafts and scheduled posts at their future address.
    allow_future = True
    template_name = "blog/post_detail.html"

    def get_queryset(self) -> QuerySet[Post]:
        return with_thread_counts(
            Post.objects.visible_to(self.request.user)
            .select_related("author__author_profile")
            .with_comment_counts()
            .prefetch_related("tags", "references")
        )

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return super().get(request, *args, **kwargs)
        except CommentPageNotFound:
            raise
        except Http404:
            # The slug is unique: an old link whose date no longer matches (the post's
            # date was corrected) is sent on to the post's address, on the same page
            # of its discussion.
            post = self.get_queryset().filter(slug=kwargs["slug"]).first()
            if post is None:
                raise
            page = request.GET.get("page")
            query = f"?{urlencode({'page': page})}" if page else ""
            return redirect(post.get_absolute_url() + query, permanent=True)

    def get_context_data(self, **kwargs) -> dict:
        post = self.object
        references = post.references_with_backlinks()
        attach_other_citations(post, references)
        return super().get_context_data(
            references=references,
            # Counting shared tags reads every post with one of them: once per change.
            related_posts=cached_fragment(self.request, f"related:{post.pk}", post.related_posts),
            previous_post=post.get_previous_post(),
            next_post=post.get_next_post(),
            # ?page=: which page of the discussion (blog.discussion.paging).
            discussion=load_discussion(post, self.request.user, self.request.GET.get("page")),
            **kwargs,
        )


class TagListView(PageMetaMixin, ListView):
    template_name = "blog/tag_list.html"
    context_object_name = "tags"

    def get_queryset(self) -> QuerySet[Tag]:
        return tag_counts()

    def page_meta(self, context: dict) -> tuple[str, str]:
        return (
            "Tags",
            f"Every topic on {settings.SITE_NAME}, with how many posts each: "
            f"{', '.join(tag.name for tag in context['tags'])}.",
        )


class TagDetailView(PostListMixin, ListView):
    template_name = "blog/tag_detail.html"
    # A tag with no published post is not a page readers can reach.
    allow_empty = False

    def get_queryset(self) -> QuerySet[Post]:
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return super().get_queryset().filter(tags=self.tag)

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(tag=self.tag, **kwargs)


class AuthorDetailView(PageMetaMixin, PostListMixin, ListView):
    """An author's page: their biography and photo, then their published posts, paged.
    An author with no published post is not a page readers can reach (as a tag)."""

    template_name = "blog/author_detail.html"
    allow_empty = False

    def get_queryset(self) -> QuerySet[Post]:
        self.author = get_object_or_404(
            Author.objects.select_related("user", "photo").prefetch_related("photo__renditions"),
            slug=self.kwargs["slug"],
        )
        return super().get_queryset().filter(author=self.author.user_id)

    def get_context_data(self, **kwargs) -> dict:
        # The photo is shown at most 12rem wide: its smallest rendition (480 px) is
        # sharp on any screen, where the original may be 1,600 px.
        photo = self.author.photo
        shown = (media.smallest_rendition(photo) or photo) if photo is not None else None
        return super().get_context_data(author=self.author, photo=shown, **kwargs)

    def page_meta(self, context: dict) -> tuple[str, str]:
        name = self.author.name
        suffix = page_suffix(context)
        posts = f"Posts by {name} on {settings.SITE_NAME}{suffix}."
        bio = " ".join(self.author.bio.split())
        return f"{name}{suffix}", f"{bio} {posts}" if bio else posts


class DiscussionListView(PageMetaMixin, ListView):
    """Posts that call for answers and posts readers have discussed, the most recently
    commented first (posts still waiting for a first answer after them)."""

    template_name = "blog/discussions.html"
    context_object_name = "posts"
    paginate_by = 20

    def get_queryset(self) -> QuerySet[Post]:
        return Post.objects.published().discussed()

    def paginate_queryset(self, queryset: QuerySet[Post], page_size: int) -> tuple:
        # Summaries (count, latest comment's author and text) for the page shown only,
        # in the same query: the page's posts are a subquery.
        paginator, page, posts, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = (
            Post.objects.filter(pk__in=posts.values("pk"))
            .with_discussion()
            .order_by(*DISCUSSED_ORDER)
        )
        return paginator, page, page.object_list, is_paginated

    def page_meta(self, context: dict) -> tuple[str, str]:
        return (
            f"Discussions{page_suffix(context)}",
            "Readers’ discussions of the blog’s posts, and the questions the blog has put "
            "to its readers.",
        )


class SearchView(PageMetaMixin, ListView):
    """Full-text search (blog/search.py): the matching published posts, best first, each
    with its matched words highlighted. No query: the form alone."""

    template_name = "blog/search.html"
    context_object_name = "results"
    paginate_by = settings.BLOG_SEARCH_RESULTS_PER_PAGE

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.text = request.GET.get("q", "")
        try:
            self.query = parse_query(self.text)
        except QueryTooLong as error:
            self.query, self.object_list = None, []
            context = self.get_context_data(error=str(error))
            return self.render_to_response(context, status=400)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Results:
        return Results(self.query)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        page = context.get("page_obj")
        # Matching pages (About, a policy…) above the posts, on the first page only.
        first = page is None or page.number == 1
        return context | {
            "pages": matching_pages(self.query) if self.query and first else [],
            "text": self.text,
            "query": self.query,
            # Kept in the pages' links, so page 2 is page 2 of the same search.
            "page_query": urlencode({"q": self.text}) if self.text else "",
        }

    def page_meta(self, context: dict) -> tuple[str, str]:
        title = f"Search: {self.query.text}" if self.query else "Search"
        description = "Search the blog’s posts, their references and tags."
        return f"{title}{page_suffix(context)}", description


class ReferenceListView(PageMetaMixin, ListView):
    """Every work the published posts cite, each once, A to Z, with the posts citing
    it: two queries, whatever the number of works."""

    template_name = "blog/reference_list.html"
    context_object_name = "works"
    paginate_by = 50

    def get_queryset(self) -> list[Work]:
        return published_works()

    def paginate_queryset(self, queryset: list[Work], page_size: int) -> tuple:
        # The citing posts are fetched for the page shown only.
        paginator, page, works, is_paginated = super().paginate_queryset(queryset, page_size)
        attach_citing_posts(works)
        return paginator, page, works, is_paginated

    def page_meta(self, context: dict) -> tuple[str, str]:
        return (
            f"References{page_suffix(context)}",
            "Every work the blog’s posts cite, A to Z, with the posts that cite it.",
        )


class PrivacyView(PageMetaMixin, TemplateView):
    """/privacy/: what is stored, for how long, and how to have it erased. Every figure
    comes from the settings that enforce it (blog.operations.privacy does the erasing and
    the forgetting)."""

    template_name = "blog/privacy.html"

    def get_context_data(self, **kwargs) -> dict:
        days = retention_days()
        return super().get_context_data(
            ip_days=days,
            ip_retention=None if days is None else in_words(datetime.timedelta(days=days)),
            link_lifetime=describe_max_age(),
            rate_period=in_words(datetime.timedelta(seconds=settings.BLOG_COMMENTS_RATE_PERIOD)),
            csrf_cookie=settings.CSRF_COOKIE_NAME,
            csrf_age=in_words(datetime.timedelta(seconds=settings.CSRF_COOKIE_AGE)),
            session_cookie=settings.SESSION_COOKIE_NAME,
            session_age=in_words(datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)),
            # Where to ask for erasure: the contact given, or the site's own address.
            contact=settings.BLOG_PRIVACY_CONTACT or settings.DEFAULT_FROM_EMAIL,
            erased_name=ERASED_NAME,
            erased_text=ERASED_TEXT,
            # Following by e-mail (blog.following).
            follow_link_lifetime=in_words(datetime.timedelta(seconds=CONFIRM_MAX_AGE)),
            follow_per_address=settings.BLOG_FOLLOW_CONFIRMATIONS_PER_ADDRESS,
            follow_period=a_period(
                datetime.timedelta(seconds=settings.BLOG_FOLLOW_CONFIRMATION_PERIOD)
            ),
            follow_rate_period=a_period(
                datetime.timedelta(seconds=settings.BLOG_FOLLOW_RATE_PERIOD)
            ),
            # E-mail sent (or given up on) is deleted after this (blog.upkeep).
            mail_kept=in_words(datetime.timedelta(days=settings.BLOG_MAIL_KEEP_DAYS)),
            # Staff's own words above the figures: the published page with this slug.
            intro=Page.objects.published().filter(slug=PRIVACY_PAGE_SLUG).first(),
            **kwargs,
        )

    def page_meta(self, context: dict) -> tuple[str, str]:
        return (
            "Privacy",
            "What this blog keeps about its readers and commenters, for how long, and how "
            "to have it removed.",
        )


class PageDetailView(StaffDraftMixin, DetailView):
    """/<slug>/: a standalone page (About, Contact…), with no date and no discussion.
    Readers see published pages; staff may preview a draft, which no cache keeps."""

    template_name = "blog/page_detail.html"
    context_object_name = "page"

    def get_queryset(self) -> QuerySet[Page]:
        # The privacy page's text is shown on /privacy/ (PrivacyView), not here.
        return Page.objects.visible_to(self.request.user).exclude(slug=PRIVACY_PAGE_SLUG)
