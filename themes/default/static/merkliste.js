/* The page /merkliste: the Lotse's list is edited in place (title, next steps, notes and
   contact kept as they are typed, order and removal without a reload, keyboard focus kept),
   earlier lists are offered by title, a shared list is read-only with "übernehmen".
   Every change is written to this browser's store (app.js) and to the page's URL; the
   handout below the tools is updated at once, so print and share always show what is typed. */
(function () {
  "use strict";
  var page = document.querySelector("[data-shortlist-page]");
  var store = window.m40Merkliste;
  if (!page || !store) return;
  var editable = page.dataset.editable === "ja";
  var status = page.querySelector("[data-share-status]");
  var qrTimer = null;
  var DEFAULT_TITLE = "Methoden für Ihr Unternehmen";

  page.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  page.querySelectorAll("[data-no-js-only]").forEach(function (el) { el.hidden = true; });

  /* Compact print (first page, then each method briefly) unless the full texts are wanted;
     the choice is remembered in this browser. */
  var FULL_KEY = "mentoring40.druck-ausfuehrlich";
  var handoutBox = page.querySelector(".handout");
  page.querySelectorAll("[data-print-full]").forEach(function (box) {
    try { box.checked = localStorage.getItem(FULL_KEY) === "ja"; } catch (e) { box.checked = false; }
    if (handoutBox) handoutBox.classList.toggle("print-full", box.checked);
    box.addEventListener("change", function () {
      if (handoutBox) handoutBox.classList.toggle("print-full", box.checked);
      try { localStorage.setItem(FULL_KEY, box.checked ? "ja" : "nein"); } catch (e) { /* this page only */ }
    });
  });

  function say(text) { if (status) status.textContent = text; }
  function shownSlugs() {
    return Array.prototype.map.call(page.querySelectorAll("[data-handout-overview] li[data-slug]"),
      function (li) { return li.dataset.slug; });
  }
  function fromUrl(id) {
    var params = new URLSearchParams(location.search);
    var list = store.blank(id);
    list.title = params.get("titel") || "";
    list.slugs = shownSlugs();  // the server left out what is no longer in the toolbox
    list.steps = params.get("schritte") || "";
    list.slugs.forEach(function (slug) {
      var note = params.get("notiz-" + slug);
      if (note) list.notes[slug] = note;
    });
    return list;
  }
  function titleOf(list) {
    return list.title || "Ohne Titel";
  }

  // -- a shared list: read-only, print, "übernehmen" ---------------------------------------
  if (!editable) {
    page.addEventListener("click", function (event) {
      if (event.target.closest("[data-print]")) { window.print(); return; }
      if (event.target.closest("[data-adopt]")) {
        var adopted = store.save(fromUrl());
        location.assign(store.href(adopted));
      }
      if (event.target.closest("[data-new-list]")) location.assign(store.href(store.create()));
    });
    if (!shownSlugs().length) {
      // Plain /merkliste: the Lotse's current list, if it has anything.
      var current = store.current();
      if (current.slugs.length || current.title) { location.replace(store.href(current)); return; }
      showOthers(current.id);
    }
    return;
  }

  // -- the Lotse's list --------------------------------------------------------------------
  var list = fromUrl(page.dataset.listId);
  var urlContact = new URLSearchParams(location.search).get("kontakt");
  if (urlContact !== null) store.setContact(urlContact);
  var contactInput = page.querySelector("[data-field=contact]");
  if (contactInput && !contactInput.value) contactInput.value = store.contact();
  list = store.save(list);
  showOthers(list.id);
  sync(true);

  function handout(selector) { return page.querySelector(selector); }
  function setText(selector, text, box) {
    var el = handout(selector);
    if (el) el.textContent = text;
    if (box && handout(box)) handout(box).hidden = !text;
  }

  /* URL, share link, handout link and QR code follow the list. */
  function sync(now) {
    history.replaceState(null, "", store.href(list));
    var share = store.shareHref(list);
    page.querySelectorAll("[data-share-link], [data-handout-url]").forEach(function (link) {
      link.setAttribute("href", share);
    });
    var shown = handout("[data-handout-url]");
    if (shown) shown.textContent = location.origin + share;
    var title = list.title ? "Merkliste: " + list.title : "Merkliste";
    document.title = title + document.title.slice(document.title.lastIndexOf(" – "));
    clearTimeout(qrTimer);
    if (now) updateQr(); else qrTimer = setTimeout(updateQr, 400);
  }
  function updateQr() {
    var img = handout("[data-handout-qr]");
    if (!img) return Promise.resolve();
    var src = "/merkliste/qr.svg" + store.shareHref(list).slice("/merkliste".length);
    if (img.getAttribute("src") === src && img.complete) return Promise.resolve();
    return new Promise(function (resolve) {
      img.onload = function () { img.hidden = false; resolve(); };
      img.onerror = function () {  // too long for a QR code: the link text stays
        img.hidden = true;
        say("Der Link ist zu lang für einen QR-Code; kürzen Sie Notizen oder Schritte.");
        resolve();
      };
      img.setAttribute("src", src);
    });
  }
  function save() { list = store.save(list); sync(false); }

  page.addEventListener("input", function (event) {
    var field = event.target;
    if (field.dataset.field === "title") {
      list.title = field.value.trim();
      setText("[data-handout-title]", list.title || DEFAULT_TITLE);
    } else if (field.dataset.field === "steps") {
      list.steps = field.value.trim();
      setText("[data-handout-steps]", list.steps, "[data-handout-steps-box]");
    } else if (field.dataset.field === "contact") {
      store.setContact(field.value.trim());
      setText("[data-handout-contact]", field.value.trim(), "[data-handout-contact-box]");
    } else if (field.dataset.note) {
      var slug = field.dataset.note;
      if (field.value.trim()) list.notes[slug] = field.value.trim(); else delete list.notes[slug];
      var note = page.querySelector('[data-handout-note="' + slug + '"]');
      if (note) {
        note.querySelector("[data-note-text]").textContent = field.value.trim();
        note.hidden = !field.value.trim();
      }
    } else return;
    save();
  });
  var form = page.querySelector("[data-shortlist-form]");
  if (form) form.addEventListener("submit", function (event) { event.preventDefault(); save(); });
  /* What was typed before this script ran (it is deferred, a slow line loads it late) is kept:
     the fields start from the URL, so a field that differs from its first value was edited. */
  page.querySelectorAll("[data-field], [data-note]").forEach(function (field) {
    if (field.value !== field.defaultValue) {
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  /* Moves the neighbour rather than the item itself: the focused button never leaves the
     document, so the keyboard focus stays on it. */
  function swap(item, neighbour, after) {
    if (after) item.parentNode.insertBefore(neighbour, item.nextSibling);
    else item.parentNode.insertBefore(neighbour, item);
  }
  function companions(slug) {
    return [
      page.querySelector('[data-handout-overview] li[data-slug="' + slug + '"]'),
      page.querySelector('.handout-entry[data-slug="' + slug + '"]')
    ];
  }
  function renumber() {
    page.querySelectorAll("[data-handout-number]").forEach(function (el, i) { el.textContent = String(i + 1); });
    var count = list.slugs.length;
    var counter = handout("[data-handout-count]");
    if (counter) counter.textContent = count + (count === 1 ? " Methode" : " Methoden") + " aus dem Beratungsgespräch";
  }

  page.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-print]")) {
      clearTimeout(qrTimer);
      updateQr().then(function () { window.print(); });
      return;
    }
    if (target.closest("[data-new-list]")) { location.assign(store.href(store.create())); return; }
    if (target.closest("[data-share-link]")) {
      event.preventDefault();
      var absolute = location.origin + store.shareHref(list);
      var done = function () { say("Link kopiert: " + absolute); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(absolute).then(done, function () { say("Link: " + absolute); });
      } else { say("Link: " + absolute); }
      return;
    }
    var button = target.closest("[data-move], [data-remove]");
    var item = button && button.closest("li[data-slug]");
    if (!item) return;
    var slug = item.dataset.slug;
    var title = item.dataset.title;
    var index = list.slugs.indexOf(slug);
    var others = companions(slug);
    if (button.hasAttribute("data-remove")) {
      var next = item.nextElementSibling || item.previousElementSibling;
      list.slugs.splice(index, 1);
      delete list.notes[slug];
      item.remove();
      others.forEach(function (el) { if (el) el.remove(); });
      save();
      renumber();
      if (!list.slugs.length) { location.assign(store.href(list)); return; }
      next.querySelector("[data-remove]").focus();
      say("„" + title + "“ wurde von der Merkliste entfernt.");
      return;
    }
    var up = button.dataset.move === "up";
    var target2 = up ? index - 1 : index + 1;
    if (target2 < 0 || target2 >= list.slugs.length) {
      say("„" + title + "“ steht schon " + (up ? "ganz oben." : "ganz unten."));
      return;
    }
    var neighbourSlug = list.slugs[target2];
    list.slugs.splice(target2, 0, list.slugs.splice(index, 1)[0]);
    swap(item, page.querySelector('[data-shortlist-order] li[data-slug="' + neighbourSlug + '"]'), up);
    var theirs = companions(neighbourSlug);
    others.forEach(function (el, i) { if (el && theirs[i]) swap(el, theirs[i], up); });
    button.focus();
    save();
    renumber();
    say("„" + title + "“ steht jetzt an Stelle " + (target2 + 1) + " von " + list.slugs.length + ".");
  });

  function showOthers(currentId) {
    var nav = page.querySelector("[data-other-lists]");
    if (!nav) return;
    var items = nav.querySelector("[data-other-lists-items]");
    var others = store.all().filter(function (l) {
      return l.id !== currentId && (l.title || l.slugs.length);
    });
    items.replaceChildren();
    others.forEach(function (other) {
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = store.href(other);
      link.textContent = titleOf(other);
      var when = new Date(other.updated).toLocaleDateString("de-DE");
      var count = other.slugs.length === 1 ? "1 Methode" : other.slugs.length + " Methoden";
      li.append(link, " (" + count + ", zuletzt geändert am " + when + ")");
      items.append(li);
    });
    nav.hidden = others.length === 0;
  }
})();
