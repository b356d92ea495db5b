/* The post editor's live preview, in the admin (blog/admin_editor.py).

   The preview is a sandboxed frame holding the post page's markup and the site's own
   stylesheet (admin/blog/post/preview_frame.html). As the writer types, this sends the
   form as it stands - the body, and the references' rows (unsaved ones included, rows
   marked for deletion left out) - to the admin's preview endpoint, which renders them
   through the site's one Markdown pipeline, and writes the answer into the frame.
   Requests wait for a pause in typing, a newer one cancels an older one, and an
   unchanged form is not sent again.

   On a wide screen the preview sits beside the body; on a narrower one the two are
   tabs, Write and Preview (the ARIA tabs pattern, with arrow keys).

   markdownx still owns the textarea (image upload by drag and drop or paste, and its
   shortcuts); its own preview is switched off by the widget (see blog/admin_editor.py).
   No inline script: the site's Content-Security-Policy allows none. */
(function () {
  "use strict";

  var DELAY = 350; // milliseconds after the last change
  var WIDE = window.matchMedia("(min-width: 1100px)");

  function start() {
    var editor = document.querySelector("[data-editor]");
    if (!editor) {
      return;
    }
    var form = editor.closest("form");
    var body = form.elements.namedItem("body");
    var title = form.elements.namedItem("title");
    var tokenField = form.elements.namedItem("csrfmiddlewaretoken");
    var url = editor.getAttribute("data-preview-url");
    var frame = editor.querySelector(".editor__frame");
    var status = editor.querySelector(".editor__status");
    var count = editor.querySelector(".editor__count");
    var tabList = editor.querySelector(".editor__tabs");
    var tabs = Array.prototype.slice.call(tabList.querySelectorAll("[data-pane]"));
    var selected = "editor-write";

    var timer = null;
    var lastSent = null;
    var controller = null;
    var generation = 0;

    // The frame's document, once its srcdoc has loaded.
    var ready = new Promise(function (resolve) {
      function loaded() {
        var doc = frame.contentDocument;
        if (doc && doc.querySelector("[data-preview='body']")) {
          watchFrame(doc);
          resolve(doc);
          return true;
        }
        return false;
      }
      if (!loaded()) {
        frame.addEventListener("load", function onLoad() {
          if (loaded()) {
            frame.removeEventListener("load", onLoad);
          }
        });
      }
    });

    function watchFrame(doc) {
      // The frame runs no script of its own (sandbox): its links are followed here.
      // A reference's "#ref-1" would otherwise resolve against the admin's address.
      doc.addEventListener("click", function (event) {
        var link = event.target.closest ? event.target.closest("a[href]") : null;
        if (!link) {
          return;
        }
        event.preventDefault();
        var href = link.getAttribute("href");
        if (href.charAt(0) === "#") {
          var target = doc.getElementById(decodeURIComponent(href.slice(1)));
          if (target) {
            target.scrollIntoView({ block: "center" });
          }
        } else {
          window.open(link.href, "_blank", "noopener");
        }
      });
      // Images arrive after the text: the frame's height follows on a phone.
      doc.addEventListener("load", fit, true);
    }

    function fit() {
      ready.then(function (doc) {
        if (WIDE.matches) {
          frame.style.height = "";
        } else {
          // Measured at the smallest height first: a document is never shorter than
          // its frame, so a preview that got shorter would keep the old height.
          frame.style.height = "0px";
          frame.style.height = doc.documentElement.scrollHeight + "px";
        }
      });
    }

    function references() {
      var rows = [];
      var numbers = form.querySelectorAll("input[name^='references-'][name$='-number']");
      Array.prototype.forEach.call(numbers, function (number) {
        var prefix = number.name.slice(0, -"-number".length);
        if (prefix.indexOf("__prefix__") !== -1) {
          return; // the inline's template row
        }
        var deleted = form.elements.namedItem(prefix + "-DELETE");
        if (deleted && deleted.checked) {
          return;
        }
        var citation = form.elements.namedItem(prefix + "-citation");
        var link = form.elements.namedItem(prefix + "-url");
        rows.push({
          number: number.value,
          citation: citation ? citation.value : "",
          url: link ? link.value : "",
        });
      });
      return rows;
    }

    // A live region that stays in the page (one shown only when it has something to
    // say may not be announced): empty while the preview is up to date.
    function say(message) {
      status.textContent = message || "";
    }

    function showTitle() {
      ready.then(function (doc) {
        var heading = doc.querySelector("[data-preview='title']");
        var text = title ? title.value.trim() : "";
        heading.textContent = text;
        heading.hidden = !text;
      });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY);
    }

    function refresh() {
      window.clearTimeout(timer);
      showTitle();
      var payload = JSON.stringify({ body: body.value, references: references() });
      if (payload === lastSent) {
        return;
      }
      lastSent = payload;
      if (controller) {
        controller.abort();
      }
      controller = new AbortController();
      var mine = ++generation;
      editor.setAttribute("data-preview-state", "pending");
      fetch(url, {
        method: "POST",
        body: payload,
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRFToken": tokenField ? tokenField.value : "",
        },
        signal: controller.signal,
      })
        .then(function (response) {
          return response
            .json()
            .catch(function () {
              return {};
            })
            .then(function (data) {
              return { ok: response.ok, status: response.status, data: data };
            });
        })
        .then(function (answer) {
          if (mine !== generation) {
            return;
          }
          if (!answer.ok) {
            lastSent = null; // the same form may be sent again
            editor.setAttribute("data-preview-state", "failed");
            say(
              "The preview is not up to date: " +
                (answer.data.error || "the server answered " + answer.status + ".")
            );
            return;
          }
          return ready.then(function (doc) {
            if (mine !== generation) {
              return;
            }
            doc.querySelector("[data-preview='body']").innerHTML = answer.data.html;
            doc.querySelector("[data-preview='references']").innerHTML = answer.data.references;
            say((answer.data.problems || []).join(" "));
            count.textContent =
              "· " + answer.data.words + (answer.data.words === 1 ? " word" : " words") +
              ", " + answer.data.minutes + " min read";
            editor.setAttribute("data-preview-state", "done");
            fit();
          });
        })
        .catch(function (error) {
          if (error.name === "AbortError") {
            return;
          }
          lastSent = null;
          editor.setAttribute("data-preview-state", "failed");
          say("The preview is not up to date: it could not reach the server.");
        });
    }

    // Tabs on a narrow screen, two panes side by side on a wide one.

    function select(pane, focus) {
      selected = pane;
      layout();
      if (focus) {
        editor.querySelector("#" + pane.replace("editor-", "editor-tab-")).focus();
      }
      if (pane === "editor-preview") {
        refresh();
        fit();
      }
    }

    function layout() {
      var narrow = !WIDE.matches;
      editor.classList.toggle("editor--tabs", narrow);
      tabList.hidden = !narrow;
      if (narrow) {
        tabList.setAttribute("role", "tablist");
        tabList.setAttribute("aria-label", "Body");
      } else {
        tabList.removeAttribute("role");
        tabList.removeAttribute("aria-label");
      }
      tabs.forEach(function (tab) {
        var pane = document.getElementById(tab.getAttribute("data-pane"));
        var on = tab.getAttribute("data-pane") === selected;
        if (narrow) {
          tab.setAttribute("role", "tab");
          tab.setAttribute("aria-controls", pane.id);
          tab.setAttribute("aria-selected", String(on));
          tab.tabIndex = on ? 0 : -1;
          pane.setAttribute("role", "tabpanel");
          pane.setAttribute("aria-labelledby", tab.id);
          pane.hidden = !on;
        } else {
          ["role", "aria-controls", "aria-selected", "tabindex"].forEach(function (name) {
            tab.removeAttribute(name);
          });
          pane.removeAttribute("role");
          pane.removeAttribute("aria-labelledby");
          pane.hidden = false;
        }
      });
      fit();
    }

    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () {
        select(tab.getAttribute("data-pane"), false);
      });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
          next = tabs[(index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
        } else if (event.key === "Home") {
          next = tabs[0];
        } else if (event.key === "End") {
          next = tabs[tabs.length - 1];
        }
        if (next) {
          event.preventDefault();
          select(next.getAttribute("data-pane"), true);
        }
      });
    });

    // An image markdownx uploaded (blog/editor.py answers with its address and any
    // alternative text it has): ask for the words that describe it, for readers who
    // cannot see it, and put them between the brackets. The admin flags an image left
    // without them.
    var upload = body.closest(".markdownx");
    if (upload) {
      upload.addEventListener("markdownx.fileUploadEnd", function (event) {
        var answer = event.detail && event.detail[0];
        if (!answer || !answer.url || answer.alt) {
          return;
        }
        var alt = window.prompt(
          "Alternative text: describe the image for readers who cannot see it.", ""
        );
        alt = (alt || "").replace(/[\[\]\n]/g, " ").trim();
        var code = "![](" + answer.url + ")";
        if (alt && body.value.indexOf(code) !== -1) {
          body.value = body.value.replace(code, "![" + alt + "](" + answer.url + ")");
          schedule();
        }
      });
    }

    // Any change to the form may change the preview: typing, a reference's row
    // added or removed, a row ticked for deletion, an image markdownx inserted.
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    body.addEventListener("keyup", schedule);
    document.addEventListener("formset:added", schedule);
    document.addEventListener("formset:removed", schedule);
    WIDE.addEventListener("change", layout);

    say("");
    layout();
    refresh();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
