/* Search as you type and keyboard navigation, on top of the plain GET form.
   Without JavaScript the form submits normally; with it, the page fetches the same URL
   and swaps in the results and the facet counts. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
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

  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (event.key === "/" && tag !== "input" && tag !== "textarea" && tag !== "select") {
      event.preventDefault(); input.focus(); input.select();
    }
  });
})();
