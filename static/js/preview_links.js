// The admin's "Share a preview" box (blog.admin_previews): a Copy button beside each
// link's read-only field. A file of its own, not inline: the Content-Security-Policy
// allows this site's scripts only.
(function () {
  "use strict";
  const status = document.querySelector(".preview-links__copied");

  function say(words) {
    if (status) status.textContent = words;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy-from]");
    if (!button) return;
    const field = document.getElementById(button.dataset.copyFrom);
    if (!field) return;
    // Selected either way, so that Ctrl+C still works where the clipboard is refused.
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        () => say("Link copied."),
        () => say("Press Ctrl+C (or ⌘+C) to copy the selected link."),
      );
    } else {
      say("Press Ctrl+C (or ⌘+C) to copy the selected link.");
    }
  });
})();
