/* mentoring40 embed loader for partner pages.

   <script src="https://HOST/embed.js" data-site="SITE" data-view="search" async></script>
   data-view: search (optional data-q), entry (data-entry), topic (data-topic),
   quickcheck (optional data-questionnaire). Or, once embed.js is on the page:
   <mentoring40-embed site="SITE" view="entry" entry="SLUG"></mentoring40-embed>

   It mounts an iframe of HOST/embed/SITE/... and resizes it to its content. The
   iframe is served only to origins that the site allows (Content-Security-Policy
   frame-ancestors); it sets no cookies. */
(function () {
  "use strict";
  var script = document.currentScript;
  var host = script ? new URL(script.src, location.href).origin : null;
  var frames = window.__mentoring40Frames || (window.__mentoring40Frames = []);

  function path(site, view, opts) {
    var base = "/embed/" + encodeURIComponent(site);
    var seg = function (value) { return encodeURIComponent(value || ""); };
    if (view === "entry") return base + "/entries/" + seg(opts.entry);
    if (view === "topic") return base + "/topics/" + seg(opts.topic);
    if (view === "quickcheck") return base + "/quickcheck" + (opts.questionnaire ? "/" + seg(opts.questionnaire) : "");
    return base + "/search" + (opts.q ? "?q=" + encodeURIComponent(opts.q) : "");
  }

  function mount(container, origin, opts, before) {
    if (!opts.site) { console.error("mentoring40: data-site is missing"); return null; }
    var frame = document.createElement("iframe");
    frame.src = origin + path(opts.site, opts.view || "search", opts);
    frame.title = opts.title || "Werkzeugkasten Mentoring 4.0";
    frame.setAttribute("loading", "lazy");
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.display = "block";
    frame.style.height = (opts.height || 600) + "px";
    frame.className = "mentoring40-frame";
    frames.push({ frame: frame, origin: origin });
    if (before) container.insertBefore(frame, before); else container.appendChild(frame);
    return frame;
  }

  if (!window.__mentoring40Listening) {
    window.__mentoring40Listening = true;
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (!data || data.type !== "mentoring40:resize" || typeof data.height !== "number") return;
      frames.forEach(function (entry) {
        if (entry.frame.contentWindow === event.source && entry.origin === event.origin) {
          entry.frame.style.height = Math.max(120, Math.min(data.height, 20000)) + "px";
        }
      });
    });
  }

  if (script && script.dataset.site) {
    var d = script.dataset;
    mount(script.parentNode, host, {
      site: d.site, view: d.view, entry: d.entry, topic: d.topic, q: d.q,
      questionnaire: d.questionnaire, title: d.title, height: d.height
    }, script);
  }

  if (host && window.customElements && !customElements.get("mentoring40-embed")) {
    var origin = host;
    customElements.define("mentoring40-embed", class extends HTMLElement {
      connectedCallback() {
        if (this.firstChild) return;
        var get = this.getAttribute.bind(this);
        mount(this, get("host") || origin, {
          site: get("site"), view: get("view"), entry: get("entry"), topic: get("topic"),
          q: get("q"), questionnaire: get("questionnaire"), title: get("title"), height: get("height")
        });
      }
    });
  }
})();
