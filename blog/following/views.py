"""The reader's side of following by e-mail: the form (``follow``), the page that says
to look in one's inbox (``sent``), and the pages the e-mailed links open (``confirm``,
``unfollow``).

The form's answer is the same whether or not the address already follows, and whether
or not an e-mail was sent (blog.following.subscriptions): the next page says "if", and
no one learns from it who follows the blog. Only the per-IP limit answers 429: it says
nothing about any address.

As with the comments' links (blog.discussion.views), a link in an e-mail opens a page
with a button, and only the button (a POST) acts: mail systems that open every link to
check it confirm and unsubscribe nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from ..discussion.ratelimit import allow
from ..durations import a_period
from ..models import Follower
from ..tagging import tag_counts
from . import links, subscriptions
from .addresses import BLOCKED, is_blocked
from .confirmation import describe, link_lifetime
from .forms import FollowForm

TOO_MANY = (
    "Several requests to follow have come from your network in the last hour, so this "
    "one was not taken. Please try again in an hour."
)
NO_COOKIE = (
    "Your browser did not send this site's security cookie with the form (it may be "
    "blocking cookies, or the page was open a long time). Please send the form again."
)


def form_page(
    request: HttpRequest, form: FollowForm, *, status: int, problems: list[str] = ()
) -> HttpResponse:
    """The form on a page of its own: to choose a tag, and to say what went wrong."""
    context = {"form": form, "problems": [*problems, *hidden_problems(form)]}
    return render(request, "blog/follow.html", context, status=status)


def hidden_problems(form: FollowForm) -> list[str]:
    """The errors of the fields the reader does not see (the trap for robots), which
    would otherwise be nowhere on the page."""
    return [str(error) for error in form.errors.get("honeypot", [])]


@require_http_methods(["GET", "HEAD", "POST"])
def follow(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST: a request to follow, from any copy of the form; on to the
    "check your inbox" page (303), or the form again with what to fix (400), a
    blocked domain (403), or too many requests from one network (429)."""
    tags = tag_counts()
    if request.method != "POST":
        return form_page(request, FollowForm(tags=tags), status=200)
    form = FollowForm(request.POST, tags=tags)
    if not form.is_valid():
        return form_page(request, form, status=403 if form.blocked else 400)
    if not allow(
        request,
        "follow-rate",
        settings.BLOG_FOLLOW_RATE_LIMIT,
        settings.BLOG_FOLLOW_RATE_PERIOD,
        what="Follow rate limit",
    ):
        return form_page(request, form, status=429, problems=[TOO_MANY])
    data = form.cleaned_data
    subscriptions.ask_to_follow(data["email"], form.chosen_tag, data["frequency"])
    response = HttpResponseRedirect(reverse("blog:follow-sent"))
    # "See other": the answer to a POST is another page, fetched with GET.
    response.status_code = 303
    return response


def sent(request: HttpRequest) -> HttpResponse:
    """After the form: look in your inbox. The same page for every reader, whatever
    happened (it names no address), so the page cache may keep it."""
    period = a_period(datetime.timedelta(seconds=settings.BLOG_FOLLOW_CONFIRMATION_PERIOD))
    context = {"lifetime": link_lifetime(), "period": period}
    return render(request, "blog/follow_sent.html", context)


def message(
    request: HttpRequest, heading: str, text: str, *, status: int, ask_again: bool = False
) -> HttpResponse:
    """A link that cannot do what it was for, and why."""
    context = {"heading": heading, "text": text, "ask_again": ask_again}
    return render(request, "blog/follow_message.html", context, status=status)


def bad_link(request: HttpRequest) -> HttpResponse:
    """A link that is no link of ours: cut short, or made up."""
    return message(
        request,
        "This link is not valid",
        "It may have been cut short when it was copied: please copy the whole link "
        "from the e-mail. Nothing was changed.",
        status=404,
    )


# The link in the confirmation e-mail shows a page; only its button (a POST) confirms.
# Never cached: the page carries the reader's CSRF token.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@csrf_protect
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The confirmation link's page (GET: what is asked, and a button) and its button
    (POST: the following starts). Expired: 410; not a link of ours, or for a following
    that has gone: 404. Pressed again: it says the following has started."""
    try:
        follower = links.read_confirm(token)
    except links.ExpiredLink:
        return message(
            request,
            "This link has expired",
            f"Links to confirm a following work for {link_lifetime()}, and this one is "
            "older, so nothing was changed. If you still want new posts by e-mail, "
            "please ask again: we will send a new link.",
            status=410,
            ask_again=True,
        )
    except links.BadLink:
        return bad_link(request)
    if follower is None:
        return message(
            request,
            "Nothing to confirm",
            "This request to follow the blog has ended (it was stopped, or not confirmed "
            "in time), so nothing was changed. You can ask again.",
            status=404,
            ask_again=True,
        )
    context = {"follower": follower, "description": describe(follower), "token": token}
    if follower.is_confirmed:
        return confirmed_page(request, follower, already=True)
    if request.method != "POST":
        return render(request, "blog/follow_confirm.html", context)
    if is_blocked(follower.email):
        return message(request, "Not confirmed", BLOCKED, status=403)
    subscriptions.confirm(follower)
    return confirmed_page(request, follower, already=False)


def confirmed_page(request: HttpRequest, follower: Follower, *, already: bool) -> HttpResponse:
    context = {
        "follower": follower,
        "description": describe(follower),
        "already": already,
        "unsubscribe_url": links.unsubscribe_url(follower),
    }
    return render(request, "blog/follow_confirmed.html", context)


def one_click(request: HttpRequest) -> bool:
    """An RFC 8058 one-click unsubscription: what a mail program posts to the address in
    the List-Unsubscribe header, when its reader presses its own "Unsubscribe"."""
    return request.POST.get("List-Unsubscribe") == "One-Click"


FREQUENCIES = {value for value, _ in Follower.Frequency.choices}


# Exempt from the CSRF check: the signed token in the address, which only the reader's
# e-mail carries, is what authorises the POST, whoever sends it; a mail program's
# one-click unsubscription (RFC 8058) comes with no cookie and no form token, and a
# reader whose browser refuses cookies must be able to stop e-mails too. The token
# never expires, as RFC 8058 expects: an old e-mail's button keeps working.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unfollow(request: HttpRequest, token: str) -> HttpResponse:
    """The link in every e-mail to followers, and their List-Unsubscribe header. GET: a
    page with a button to stop (and one to switch between each post and the weekly
    digest); POST: done. A following already stopped is a page saying there is nothing
    left to stop, 200: a mail program that posts twice, or a reader who presses twice,
    has what they asked for."""
    try:
        follower = links.read_unsubscribe(token)
    except links.BadLink:
        return bad_link(request)
    if follower is None:
        return render(request, "blog/unfollowed.html", {"gone": True})
    context = {
        "follower": follower,
        "description": describe(follower),
        "token": token,
        # Its address's other followings (all posts and a tag, say): one e-mail names
        # one following, and its one-click header stops that one; the page offers all.
        "others": subscriptions.others_of(follower),
    }
    if request.method != "POST":
        return render(request, "blog/unfollow.html", context)
    action = request.POST.get("action", "")
    if one_click(request) or action == "stop":
        subscriptions.unfollow(follower)
        return render(request, "blog/unfollowed.html", context)
    if action == "stop-all":
        subscriptions.unfollow_address(follower.email)
        return render(request, "blog/unfollowed.html", {**context, "everything": True})
    if action in FREQUENCIES:
        subscriptions.change_frequency(follower, action)
        context["description"] = describe(follower)
        return render(request, "blog/unfollow.html", {**context, "changed": True})
    return message(
        request,
        "Nothing was changed",
        "The form did not say what to do. Please open the link in the e-mail again and "
        "press one of its buttons.",
        status=400,
    )


def csrf_refused(request: HttpRequest) -> HttpResponse:
    """The follow form, or a confirmation page's button, sent without the security
    cookie (settings.CSRF_FAILURE_VIEW sends it here): the form again, with what the
    reader typed, or the link's page, with what to do."""
    match = request.resolver_match
    if match is not None and match.view_name == "blog:follow-confirm":
        return message(
            request,
            "Not confirmed yet",
            "Your browser did not send this site's security cookie with the button (it may "
            "be blocking cookies, or the page was open a long time). Open the link in the "
            "e-mail again, then press the button.",
            status=403,
        )
    data = request.POST.copy()
    data["honeypot"] = ""
    form = FollowForm(data, tags=tag_counts())
    form.is_valid()  # so that the fields show what they hold, and any error of theirs
    return form_page(request, form, status=403, problems=[NO_COOKIE])
