/* The Lotse workspace: the shortlists ("Merklisten") of consultations.
   The lists live in this browser (localStorage), one per company, and each in the URL of
   /merkliste; the server stores nothing. Sharing a list means sharing its URL.
   The page /merkliste itself is run by merkliste.js, on top of window.m40Merkliste. */
(function () {
  "use strict";
  var KEY = "mentoring40.merklisten";
  var OLD_KEY = "mentoring40.merkliste";  // one list, before there were several
  var CONTACT_KEY = "mentoring40.kontakt";

  function newId() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }
  function blank(id) {
    return { id: id || newId(), title: "", slugs: [], steps: "", notes: {}, updated: Date.now() };
  }
  function clean(list) {
    var fresh = blank(typeof list.id === "string" && /^[a-z0-9]{1,32}$/.test(list.id) ? list.id : null);
    fresh.title = typeof list.title === "string" ? list.title : "";
    fresh.slugs = Array.isArray(list.slugs) ? list.slugs.filter(function (s) { return typeof s === "string"; }) : [];
    fresh.steps = typeof list.steps === "string" ? list.steps : "";
    fresh.notes = list.notes && typeof list.notes === "object" ? list.notes : {};
    fresh.updated = typeof list.updated === "number" ? list.updated : Date.now();
    return fresh;
  }
  function read() {
    var data = null;
    try { data = JSON.parse(localStorage.getItem(KEY) || "null"); } catch (e) { data = null; }
    if (!data || typeof data !== "object" || !data.lists) {
      data = { current: null, lists: {} };
      try {  // the one list of before becomes the first of several
        var old = JSON.parse(localStorage.getItem(OLD_KEY) || "null");
        if (old && (old.title || (old.slugs || []).length)) {
          var first = clean(old);
          data.lists[first.id] = first;
          data.current = first.id;
        }
      } catch (e) { /* nothing to take over */ }
    }
    Object.keys(data.lists).forEach(function (id) { data.lists[id] = clean(data.lists[id]); });
    if (!data.current || !data.lists[data.current]) {
      var start = blank();
      data.lists[start.id] = start;
      data.current = start.id;
    }
    return data;
  }
  function write(data) {
    try { localStorage.setItem(KEY, JSON.stringify(data)); } catch (e) { /* private mode: URL only */ }
  }

  function contact() {
    try { return localStorage.getItem(CONTACT_KEY) || ""; } catch (e) { return ""; }
  }
  function query(list, withId) {
    var params = new URLSearchParams();
    if (withId) params.append("liste", list.id);
    if (list.title) params.append("titel", list.title);
    list.slugs.forEach(function (slug) { params.append("e", slug); });
    if (list.steps) params.append("schritte", list.steps);
    list.slugs.forEach(function (slug) { if (list.notes[slug]) params.append("notiz-" + slug, list.notes[slug]); });
    if (contact()) params.append("kontakt", contact());
    return params.toString();
  }

  var store = {
    current: function () { var data = read(); return data.lists[data.current]; },
    all: function () {
      var data = read();
      return Object.keys(data.lists).map(function (id) { return data.lists[id]; })
        .sort(function (a, b) { return b.updated - a.updated; });
    },
    get: function (id) { return read().lists[id] || null; },
    /* Saves the list and makes it the one "Auf die Merkliste" adds to. */
    save: function (list) {
      var data = read();
      list.updated = Date.now();
      data.lists[list.id] = clean(list);
      data.current = list.id;
      write(data);
      render();
      return data.lists[list.id];
    },
    create: function () { return store.save(blank()); },
    remove: function (id) {
      var data = read();
      delete data.lists[id];
      if (data.current === id) data.current = null;
      write(data);
    },
    blank: blank,
    contact: contact,
    setContact: function (text) {
      try { localStorage.setItem(CONTACT_KEY, text); } catch (e) { /* URL only */ }
    },
    /* The Lotse's URL of the list (editable) and the share URL (read-only). */
    href: function (list) { return "/merkliste?" + query(list, true); },
    shareHref: function (list) { var q = query(list, false); return "/merkliste" + (q ? "?" + q : ""); }
  };
  window.m40Merkliste = store;

  function render() {
    var list = store.current();
    document.querySelectorAll("[data-shortlist-count]").forEach(function (badge) {
      badge.textContent = String(list.slugs.length);
      badge.hidden = list.slugs.length === 0;
    });
    document.querySelectorAll("[data-shortlist-link]").forEach(function (link) {
      link.setAttribute("href", store.href(list));
    });
    document.querySelectorAll("[data-shortlist-add]").forEach(function (button) {
      var on = list.slugs.indexOf(button.dataset.shortlistAdd) >= 0;
      button.hidden = false;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "Auf der Merkliste ✓" : "Auf die Merkliste";
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-shortlist-add]");
    if (!button) return;
    var list = store.current();
    var slug = button.dataset.shortlistAdd;
    var at = list.slugs.indexOf(slug);
    if (at >= 0) list.slugs.splice(at, 1); else list.slugs.push(slug);
    store.save(list);
  });
  document.addEventListener("m40:results", render);
  render();
})();
