/* mentoring40 embed loader for partner pages.

   <script src="https://HOST/embed.js" data-site="SITE" data-view="search" async></script>
   data-view: search (optional data-q), entry (data-entry), topic (data-topic),
   quickcheck (optional data-questionnaire). Or, once embed.js is on the page:
   <mentoring40-embed site="SITE" view="entry" entry="SLUG"></mentoring40-embed>

   It mounts an iframe of HOST/embed/SITE/... and resizes it to its content. The
   iframe is served only to origins that the site allows (Content-Security-Policy
   frame-ancestors); it sets no cookies. When the page inside changes (a hit opened,
   the Quickcheck sent) the partner page scrolls to the top of the frame. When no
   message comes from the frame in time after it loaded (the browser refused it for
   this origin, or the app is down), a notice in German takes the frame's place. */
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
    // "Link kopieren" inside the frame writes to the clipboard (a cross-origin frame may
    // only when the embedding page delegates it).
    frame.setAttribute("allow", "clipboard-write");
    var entry = { frame: frame, origin: origin, loads: 0, heard: false, notice: null, site: opts.site };
    frames.push(entry);
    frame.addEventListener("load", function () {
      entry.loads += 1;
      if (entry.loads > 1) reveal(entry, 0);  // a new page inside: show its start
      else setTimeout(function () { if (!entry.heard) refused(entry); }, NOTICE_AFTER_MS);
    });
    if (before) container.insertBefore(frame, before); else container.appendChild(frame);
    return frame;
  }

  // frame.js reports at once when the page inside has loaded; the load event of a frame
  // comes after that. Generous for a slow phone.
  var NOTICE_AFTER_MS = 4000;

  // Scroll the partner page so that ``top`` pixels below the frame's top are in view,
  // unless they already are.
  function reveal(entry, top) {
    var at = entry.frame.getBoundingClientRect().top + top;
    if (at < 0 || at > window.innerHeight * 0.8) window.scrollBy(0, at - 8);
  }

  function refused(entry) {
    var frame = entry.frame;
    var notice = document.createElement("div");
    notice.className = "mentoring40-notice";
    notice.setAttribute("role", "note");
    notice.style.cssText = "border:2px solid #8a5a00;border-radius:6px;padding:1rem 1.25rem;" +
      "background:#fff8e6;color:#222;font:inherit;line-height:1.5";
    var text = function (tag, content) {
      var el = document.createElement(tag);
      el.textContent = content;
      notice.appendChild(el);
      return el;
    };
    text("strong", "Der Werkzeugkasten Mentoring 4.0 kann hier nicht angezeigt werden.");
    text("p", "Diese Seite (" + location.origin + ") ist für die Einbettung der Partnerseite „" +
      entry.site + "“ nicht freigegeben – oder der Werkzeugkasten ist gerade nicht erreichbar.");
    var help = text("p", "Für die Betreuung dieser Website: Welche Adressen freigegeben sind und " +
      "wie eine weitere hinzukommt, steht auf ");
    var link = document.createElement("a");
    link.href = entry.origin + "/sites/" + encodeURIComponent(entry.site);
    link.textContent = link.href;
    help.appendChild(link);
    help.appendChild(document.createTextNode("."));
    var open = document.createElement("a");
    open.href = frame.src;
    open.target = "_blank";
    open.rel = "noopener";
    open.textContent = "Den Werkzeugkasten in einem neuen Fenster öffnen";
    text("p", "").appendChild(open);
    frame.style.display = "none";
    frame.parentNode.insertBefore(notice, frame);
    entry.notice = notice;
    if (window.console) console.warn("mentoring40: no answer from the frame; is " + location.origin +
      " among the origins of site " + entry.site + "?");
  }

  function heard(entry) {
    entry.heard = true;
    if (entry.notice) {  // a late answer after all: the frame works
      entry.notice.remove();
      entry.notice = null;
      entry.frame.style.display = "block";
    }
  }

  if (!window.__mentoring40Listening) {
    window.__mentoring40Listening = true;
    window.addEventListener("message", function (event) {
      var data = event.data;
      if (!data || typeof data.type !== "string") return;
      frames.forEach(function (entry) {
        if (entry.frame.contentWindow !== event.source || entry.origin !== event.origin) return;
        if (data.type === "mentoring40:resize" && typeof data.height === "number") {
          heard(entry);
          entry.frame.style.height = Math.max(120, Math.min(data.height, 20000)) + "px";
        } else if (data.type === "mentoring40:show" && typeof data.top === "number") {
          heard(entry);
          reveal(entry, Math.max(0, Math.min(data.top, 20000)));
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
