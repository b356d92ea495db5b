// Opens the comment form under the comment being answered. Without JavaScript each
// "Reply" link opens a page of its own with the same form, so this only saves a trip.
(function () {
  "use strict";
  var form = document.getElementById("comment-form");
  if (!form) return;
  var home = form.parentNode;
  var homeNext = form.nextSibling;
  var replyTo = form.querySelector("input[name=reply_to]");
  var heading = form.querySelector(".comment-form__heading");
  var submit = form.querySelector("button[name=post]");
  var label = form.querySelector("label[for=id_comment]");
  var homeTexts = [heading.textContent, submit.textContent, label.textContent];
  var cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "button--secondary comment-form__cancel";
  cancel.textContent = "Cancel reply";
  cancel.hidden = true;
  form.querySelector(".comment-form__actions").appendChild(cancel);

  function putBack() {
    var returnTo = form.closest("article.comment");
    home.insertBefore(form, homeNext);
    replyTo.value = "0";
    heading.textContent = homeTexts[0];
    submit.textContent = homeTexts[1];
    label.textContent = homeTexts[2];
    cancel.hidden = true;
    var link = returnTo && returnTo.querySelector(".comment__reply");
    if (link) link.focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.comment__reply");
    if (!link) return;
    // The comment answered is the article the link is in (its id, the comment's
    // anchor, is the server's to spell).
    var article = link.closest("article.comment");
    var slot = article && article.querySelector(":scope > .comment__reply-slot");
    if (!slot) return;
    event.preventDefault();
    slot.appendChild(form);
    replyTo.value = link.dataset.replyTo;
    heading.textContent = "Reply to " + link.dataset.replyName;
    submit.textContent = "Post reply";
    label.textContent = "Your reply:";
    cancel.hidden = false;
    form.querySelector("textarea").focus();
  });
  cancel.addEventListener("click", putBack);
})();
