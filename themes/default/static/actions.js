/* Buttons that need JavaScript and are hidden without it: Drucken ([data-print]),
   Link kopieren ([data-copy-link]: the address of this page's content, which inside a
   partner's frame is the frame's, not the partner page in the address bar), copying a
   snippet ([data-copy="id of a field"]) and putting a result's next steps on the
   Merkliste ([data-shortlist-steps]: it presses each step's own Merkliste button, so the
   list's format stays app.js's business). Each reports in the nearest [data-action-status]. */
(function () {
  "use strict";

  // A result page: forget the answers its form kept in this browser (every variant of the
  // form's key: with or without a trial run or an invitation code).
  var cleared = document.querySelector("[data-clear-answers]");
  if (cleared) {
    var prefix = cleared.getAttribute("data-clear-answers");
    try {
      for (var i = localStorage.length - 1; i >= 0; i--) {
        var key = localStorage.key(i);
        if (key === prefix || (key && key.indexOf(prefix + ".") === 0)) localStorage.removeItem(key);
      }
    } catch (e) { /* storage off: nothing was kept */ }
  }

  function statusFor(button) {
    var box = button.closest("[data-actions], [data-result-actions], .snippet") || document;
    return box.querySelector("[data-action-status]");
  }
  function say(button, text) {
    var status = statusFor(button);
    if (status) status.textContent = text;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return legacyCopy(text); });
    }
    return legacyCopy(text);
  }
  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      var field = document.createElement("textarea");
      field.value = text;
      field.setAttribute("readonly", "");
      field.className = "visually-hidden";
      document.body.appendChild(field);
      field.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      field.remove();
      if (ok) resolve(); else reject(new Error("copy refused"));
    });
  }

  function contentAddress() {
    var link = document.querySelector("[data-result-url]");
    if (link) return link.href;
    return location.href.split("#")[0];
  }

  document.querySelectorAll("[data-print], [data-copy-link], [data-copy]").forEach(function (b) { b.hidden = false; });
  // The steps button only where app.js runs the Merkliste (the workspace, not an embed).
  var steps = document.querySelector("[data-shortlist-steps]");
  if (steps && document.querySelector("[data-shortlist-add]:not([hidden])")) steps.hidden = false;

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print], [data-copy-link], [data-copy], [data-shortlist-steps]");
    if (!button) return;
    if (button.hasAttribute("data-print")) { window.print(); return; }
    if (button.hasAttribute("data-shortlist-steps")) {
      var added = 0;
      document.querySelectorAll("[data-shortlist-add]").forEach(function (step) {
        if (step.getAttribute("aria-pressed") !== "true") { step.click(); added += 1; }
      });
      say(button, added ? added + (added === 1 ? " Methode" : " Methoden") + " auf die Merkliste gesetzt."
        : "Alle Schritte stehen schon auf der Merkliste.");
      return;
    }
    var text;
    var what;
    if (button.hasAttribute("data-copy-link")) { text = contentAddress(); what = "Link kopiert: " + text; }
    else {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      text = field.value;
      what = "In die Zwischenablage kopiert.";
    }
    copyText(text).then(function () { say(button, what); }, function () {
      say(button, "Kopieren ging nicht; bitte markieren und kopieren Sie selbst: " + text);
    });
  });
})();
