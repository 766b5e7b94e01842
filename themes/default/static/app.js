/* The Lotse workspace: the shortlist ("Merkliste") for a consultation.
   The list lives in this browser (localStorage) and in the URL of /merkliste; the
   server stores nothing. Sharing the list means sharing that URL. */
(function () {
  "use strict";
  var KEY = "mentoring40.merkliste";

  function load() {
    try {
      var data = JSON.parse(localStorage.getItem(KEY) || "{}");
      return { title: data.title || "", slugs: Array.isArray(data.slugs) ? data.slugs : [] };
    } catch (e) { return { title: "", slugs: [] }; }
  }
  function save(list) {
    try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode: URL only */ }
    render(list);
  }
  function href(list) {
    var params = new URLSearchParams();
    if (list.title) params.append("titel", list.title);
    list.slugs.forEach(function (slug) { params.append("e", slug); });
    var query = params.toString();
    return "/merkliste" + (query ? "?" + query : "");
  }

  function render(list) {
    document.querySelectorAll("[data-shortlist-count]").forEach(function (badge) {
      badge.textContent = String(list.slugs.length);
      badge.hidden = list.slugs.length === 0;
    });
    document.querySelectorAll("[data-shortlist-link]").forEach(function (link) {
      link.setAttribute("href", href(list));
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
    var list = load();
    var slug = button.dataset.shortlistAdd;
    var at = list.slugs.indexOf(slug);
    if (at >= 0) list.slugs.splice(at, 1); else list.slugs.push(slug);
    save(list);
  });
  document.addEventListener("m40:results", function () { render(load()); });

  var page = document.querySelector("[data-shortlist-page]");
  if (page) {
    var params = new URLSearchParams(location.search);
    var fromUrl = { title: params.get("titel") || "", slugs: params.getAll("e") };
    if (fromUrl.slugs.length || fromUrl.title) {
      save(fromUrl);  // the URL is the list (an opened share link becomes this browser's list)
    } else if (load().slugs.length) {
      location.replace(href(load()));
      return;
    }
    page.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
    page.addEventListener("click", function (event) {
      var list = load();
      var item = event.target.closest("li[data-slug]");
      if (event.target.closest("[data-print]")) { window.print(); return; }
      if (event.target.closest("[data-share-link]")) {
        event.preventDefault();
        var absolute = location.origin + href(list);
        var status = page.querySelector("[data-share-status]");
        var done = function () { status.textContent = "Link kopiert: " + absolute; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(absolute).then(done, function () { status.textContent = absolute; });
        } else { status.textContent = absolute; }
        return;
      }
      if (!item) return;
      var slug = item.dataset.slug;
      var index = list.slugs.indexOf(slug);
      if (event.target.closest("[data-remove]")) list.slugs.splice(index, 1);
      else if (event.target.closest("[data-move=up]") && index > 0) list.slugs.splice(index - 1, 0, list.slugs.splice(index, 1)[0]);
      else if (event.target.closest("[data-move=down]") && index < list.slugs.length - 1) list.slugs.splice(index + 1, 0, list.slugs.splice(index, 1)[0]);
      else return;
      save(list);
      location.assign(href(list));
    });
  }
  render(load());
})();
