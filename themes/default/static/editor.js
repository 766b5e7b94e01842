/* The entry editor (/redaktion/eintraege/…): live preview, slug proposal, related entries
   by search-as-you-type, keyboard shortcuts in the body, and typed text kept across a
   sign-in. Everything here is an addition: the form works without it. */
(function () {
  "use strict";
  var form = document.getElementById("eintrag-form");
  if (!form) return;

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // -- typed text survives an expired session (sign-in and back) ----------------------
  var key = form.getAttribute("data-draft-key");
  var saved = document.querySelector("[data-saved]");
  var storage = null;
  try { storage = window.sessionStorage; } catch (e) { storage = null; }

  function snapshot() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "hidden" || el.type === "submit" || el.name === "related_typed") return;
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }

  function restore(values) {
    var changed = false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || !(el.name in values) || el.type === "hidden") return;
      if (el.type === "checkbox") {
        var want = values[el.name].indexOf(el.value) !== -1;
        if (el.checked !== want) { el.checked = want; changed = true; }
      } else if (el.value !== values[el.name]) {
        el.value = values[el.name];
        changed = true;
      }
    });
    return changed;
  }

  if (storage && key) {
    if (saved) {
      storage.removeItem(key);
    } else {
      var kept = storage.getItem(key);
      if (kept) {
        try {
          if (restore(JSON.parse(kept))) {
            var notice = document.querySelector(".restored-notice");
            if (notice) notice.hidden = false;
          }
        } catch (e) { storage.removeItem(key); }
      }
    }
    var remember = debounce(function () {
      try { storage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* full: ignore */ }
    }, 300);
    form.addEventListener("input", remember);
    form.addEventListener("change", remember);
    form.addEventListener("submit", function () {
      try { storage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* ignore */ }
    });
  }

  // -- live preview ----------------------------------------------------------------------
  var previewButton = form.querySelector('[formtarget="vorschau"]');
  function preview() {
    if (previewButton && form.requestSubmit) form.requestSubmit(previewButton);
  }
  if (previewButton) {
    form.addEventListener("input", debounce(preview, 700));
    var site = document.getElementById("preview-site");
    if (site) site.addEventListener("change", preview);
    preview();
  }

  // -- slug proposal (new entries) ----------------------------------------------------
  var slug = document.getElementById("slug");
  var title = document.getElementById("title");
  if (slug && title) {
    var status = form.querySelector(".slug-status");
    var typedSlug = slug.value !== "";
    slug.addEventListener("input", function () { typedSlug = slug.value !== ""; });
    title.addEventListener("input", debounce(function () {
      if (typedSlug || !title.value.trim()) return;
      fetch("/api/v1/redaktion/slug?title=" + encodeURIComponent(title.value), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (doc) {
        if (!doc || typedSlug) return;
        slug.value = doc.data.slug;
        if (status) {
          status.textContent = doc.data.free
            ? "Vorgeschlagen: " + doc.data.slug + " (frei)"
            : "Der naheliegende Kurzname ist vergeben; vorgeschlagen: " + doc.data.slug;
        }
      }).catch(function () { /* the field stays as typed */ });
    }, 300));
    // A title typed before this deferred script ran still gets its slug proposed.
    if (title.value !== title.defaultValue) title.dispatchEvent(new Event("input"));
  }

  // -- related entries by search-as-you-type --------------------------------------------
  var search = document.getElementById("related-search");
  var results = document.getElementById("related-results");
  var list = form.querySelector(".related-list");
  if (search && results && list) {
    search.removeAttribute("name"); // with the script, what is typed here is a query
    var addRelated = function (hit) {
      if (form.querySelector('input[name="related"][value="' + hit.slug + '"]')) return;
      var li = document.createElement("li");
      var box = document.createElement("input");
      box.type = "checkbox"; box.name = "related"; box.value = hit.slug; box.checked = true;
      box.id = "related-" + hit.slug;
      var label = document.createElement("label");
      label.htmlFor = box.id; label.textContent = hit.title;
      li.appendChild(box); li.appendChild(label); list.appendChild(li);
      form.dispatchEvent(new Event("change"));
    };
    search.addEventListener("input", debounce(function () {
      var q = search.value.trim();
      results.textContent = "";
      if (q.length < 2) return;
      fetch("/api/v1/search?page_size=8&q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (doc) {
        if (!doc) return;
        results.textContent = "";
        doc.data.forEach(function (hit) {
          var li = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button"; button.className = "button small";
          button.textContent = "Hinzufügen: " + hit.title;
          button.addEventListener("click", function () { addRelated(hit); li.remove(); search.focus(); });
          li.appendChild(button); results.appendChild(li);
        });
        if (!doc.data.length) {
          var none = document.createElement("li"); none.textContent = "Kein Eintrag gefunden.";
          results.appendChild(none);
        }
      }).catch(function () { /* search unavailable: typing slugs still works */ });
    }, 250));
  }

  // -- keyboard shortcuts in the body ------------------------------------------------
  var body = document.getElementById("body");
  function wrap(before, after, placeholder) {
    var start = body.selectionStart, end = body.selectionEnd;
    var chosen = body.value.slice(start, end) || placeholder;
    body.setRangeText(before + chosen + after, start, end, "end");
    body.selectionStart = start + before.length;
    body.selectionEnd = start + before.length + chosen.length;
    body.dispatchEvent(new Event("input", { bubbles: true }));
  }
  if (body) {
    body.addEventListener("keydown", function (event) {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      var k = event.key.toLowerCase();
      if (k === "b") { event.preventDefault(); wrap("**", "**", "fett"); }
      else if (k === "i") { event.preventDefault(); wrap("_", "_", "kursiv"); }
      else if (k === "k") { event.preventDefault(); wrap("[", "](https://)", "Linktext"); }
    });
  }
  form.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.submit();
    }
  });
})();
