/* The way back to the last search: the search page keeps its address (query and filters),
   its hits and the scroll position in this tab (sessionStorage); "← Zur Suche" on an entry
   leads there and the page scrolls back to where it was; the entry also links to the next
   hit. "/" on a page without a search box opens that search. */
(function () {
  "use strict";
  var crumbs = document.querySelector("[data-back-to-search]");
  var form = document.querySelector("form[data-live-search]");
  // Workspace and each embed keep their own trail (key: the search page's path).
  var home = form ? form.getAttribute("action").split("?")[0]
    : crumbs ? crumbs.getAttribute("href").split("?")[0]
    : document.body.classList.contains("workspace") ? "/" : null;
  if (!home) return;
  var KEY = "mentoring40.suche:" + home;
  var RESTORE = "mentoring40.zurueck:" + home;

  function read() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch (e) { return null; }
  }
  function write(state) {
    try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* no storage: plain links */ }
  }

  if (form) {
    var remember = function () {
      var hits = Array.prototype.map.call(document.querySelectorAll("#ergebnisse [data-hit-link]"), function (a) {
        return { href: a.getAttribute("href"), title: a.textContent.trim() };
      });
      write({ url: location.pathname + location.search, scroll: window.scrollY, hits: hits });
    };
    var timer = null;
    window.addEventListener("scroll", function () { clearTimeout(timer); timer = setTimeout(remember, 150); }, { passive: true });
    document.addEventListener("m40:results", remember);
    document.addEventListener("click", function (event) { if (event.target.closest("a")) remember(); }, true);
    window.addEventListener("pagehide", remember);
    var back = null;
    try { back = sessionStorage.getItem(RESTORE); sessionStorage.removeItem(RESTORE); } catch (e) { back = null; }
    var saved = read();
    if (back === "#q") {  // "/" on another page: straight into the search box
      var box = form.querySelector("input[type=search]");
      box.focus();
      box.select();
    } else if (back && saved && saved.url === location.pathname + location.search) {
      // Back from an entry: where the Lotse was, with the entry just read in focus.
      var restore = function () {
        window.scrollTo(0, saved.scroll || 0);
        var opened = document.querySelector('#ergebnisse [data-hit-link][href="' + back + '"]');
        if (opened) { opened.focus({ preventScroll: true }); opened.closest(".hit").classList.add("is-active"); }
      };
      if (document.readyState === "complete") restore(); else window.addEventListener("load", restore);
    } else {
      remember();
    }
    return;
  }

  // An entry page (or another page of the workspace, without crumbs).
  var state = read();
  var here = location.pathname;
  var searchUrl = state && state.url ? state.url : home;
  if (crumbs && state && state.url) {
    crumbs.setAttribute("href", state.url);
    var index = -1;
    (state.hits || []).forEach(function (hit, i) { if (hit.href === here) index = i; });
    var next = index >= 0 ? state.hits[index + 1] : null;
    if (next) {
      var link = document.createElement("a");
      link.href = next.href;
      link.className = "next-hit";
      link.setAttribute("data-next-hit", "");
      link.textContent = "Nächster Treffer: " + next.title + " →";
      var where = document.createElement("span");
      where.className = "hit-position";
      where.textContent = "Treffer " + (index + 1) + " von " + state.hits.length;
      // After "Auf die Merkliste" (add, then on to the next), else beside "Zur Suche".
      var actions = document.querySelector(".entry-actions");
      (actions || crumbs.parentNode).append(" ", link, " ", where);
    }
  }
  if (crumbs) crumbs.addEventListener("click", function () {
    try { sessionStorage.setItem(RESTORE, here); } catch (e) { /* plain link */ }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (window.m40TypesText && window.m40TypesText(event.target)) return;
    event.preventDefault();
    try { sessionStorage.setItem(RESTORE, "#q"); } catch (e) { /* plain link */ }
    location.assign(searchUrl);
  });
})();
