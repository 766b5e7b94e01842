/* Search as you type and keyboard navigation, on top of the plain GET form.
   Without JavaScript the form submits normally; with it, the page fetches the same URL
   and swaps in the results and the facet counts. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function typesText(el) {
    var tag = (el.tagName || "").toLowerCase();
    if (tag === "textarea" || tag === "select" || el.isContentEditable) return true;
    return tag === "input" && !/^(checkbox|radio|button|submit|reset|range|color|file|image)$/.test(el.type);
  }
  window.m40TypesText = typesText;
  var form = document.querySelector("form[data-live-search]");
  if (!form) return;
  var input = form.querySelector("input[type=search]");
  var results = document.getElementById("ergebnisse");
  var timer = null;
  var current = null;

  function url() {
    var params = new URLSearchParams(new FormData(form));
    if (!params.get("q")) params.delete("q");
    var query = params.toString();
    return form.getAttribute("action").split("?")[0] + (query ? "?" + query : "");
  }

  function refresh() {
    var target = url();
    if (current) current.abort();
    current = new AbortController();
    results.setAttribute("aria-busy", "true");
    fetch(target, { signal: current.signal, headers: { "Accept": "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-results]");
        if (fresh) results.replaceChildren(fresh);
        doc.querySelectorAll("[data-facet-count]").forEach(function (span) {
          var mine = document.querySelector('[data-facet-count="' + span.dataset.facetCount + '"]');
          if (mine) mine.textContent = span.textContent;
        });
        mirrorFilters(doc);
        announce();
        history.replaceState(null, "", target);
        results.setAttribute("aria-busy", "false");
        document.dispatchEvent(new CustomEvent("m40:results"));
      })
      .catch(function (error) {
        if (error.name !== "AbortError") { results.setAttribute("aria-busy", "false"); form.submit(); }
      });
  }

  function later() { clearTimeout(timer); timer = setTimeout(refresh, 180); }

  input.addEventListener("input", later);
  // Typed before this deferred script ran (a slow line): search for it now.
  if (input.value !== input.defaultValue) later();
  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox") refresh();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); refresh(); });

  function links() { return Array.prototype.slice.call(results.querySelectorAll("[data-hit-link]")); }
  function mark(link) {
    results.querySelectorAll(".hit.is-active").forEach(function (hit) { hit.classList.remove("is-active"); });
    if (link) link.closest(".hit").classList.add("is-active");
  }

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      var first = links()[0];
      if (first) { event.preventDefault(); first.focus(); mark(first); }
    } else if (event.key === "Enter") {
      // Enter while typing opens the first hit once results are there.
      var top = links()[0];
      if (top && input.value.trim()) { event.preventDefault(); top.click(); }
    } else if (event.key === "Escape") {
      input.value = ""; refresh();
    }
  });

  results.addEventListener("keydown", function (event) {
    var all = links();
    var index = all.indexOf(document.activeElement);
    if (index < 0) return;
    if (event.key === "ArrowDown" && index < all.length - 1) {
      event.preventDefault(); all[index + 1].focus(); mark(all[index + 1]);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index === 0) { input.focus(); mark(null); } else { all[index - 1].focus(); mark(all[index - 1]); }
    }
  });

  // "/" jumps to the search box from anywhere, a checkbox or button included; only where
  // "/" can be typed (text fields) it stays a character.
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typesText(event.target)) {
      event.preventDefault(); input.focus(); input.select();
    }
  });

  /* After live results: whether each filter would give hits (one that would give none is
     shown but not offered), "Filter (n)" and "Filter zurücksetzen" as the server has them. */
  function mirrorFilters(doc) {
    doc.querySelectorAll(".filters input[type=checkbox]").forEach(function (box) {
      var mine = document.getElementById(box.id);
      if (mine) mine.disabled = box.disabled;
    });
    var count = doc.querySelector("[data-filter-count]");
    var mineCount = form.querySelector("[data-filter-count]");
    if (count && mineCount) mineCount.textContent = count.textContent;
    var reset = doc.querySelector("[data-reset-filters]");
    var mineReset = form.querySelector("[data-reset-filters]");
    if (reset && mineReset) { mineReset.hidden = reset.hidden; mineReset.href = reset.getAttribute("href"); }
  }
  /* Only the number of hits is read out, not the whole results area. */
  function announce() {
    var live = form.querySelector("[data-live-count]");
    var count = results.querySelector(".result-count");
    if (live && count) live.textContent = count.textContent.replace(/\s+/g, " ").trim();
  }
  form.addEventListener("click", function (event) {
    var reset = event.target.closest("[data-reset-filters], [data-reset-filters-link]");
    if (!reset) return;
    event.preventDefault();
    form.querySelectorAll(".filters input[type=checkbox]:checked").forEach(function (box) { box.checked = false; });
    refresh();
    input.focus();
  });
  // The filters fold away on narrow screens (the first hit in view) and stay open on wide ones.
  var panel = form.querySelector("[data-filter-panel]");
  if (panel && window.matchMedia) {
    var wide = window.matchMedia("(min-width: 50.0625rem)");
    var fit = function () { panel.open = wide.matches; };
    fit();
    if (wide.addEventListener) wide.addEventListener("change", fit);
  }
})();
