/* Inside the partner's iframe: tell the parent page how tall the content is, so
   embed.js can size the frame. Only the height is sent, and only to the page that
   embeds us if its origin is allowed: this app's own, or one the site lists (the page
   names them in data-parent-origins). Never the address: on a result page it holds
   the result token. No cookies are used. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var script = document.currentScript;
  var listed = ((script && script.getAttribute("data-parent-origins")) || "").split(" ");
  var allowed = [location.origin].concat(listed.filter(Boolean));
  // Chromium and Safari name the parent's origin. Elsewhere the message goes to each
  // allowed origin, and the browser delivers it only where the parent's origin matches.
  // (document.referrer would not do: after a link inside the frame it is our own page.)
  var ancestors = location.ancestorOrigins;
  var targets = ancestors && ancestors.length
    ? allowed.filter(function (origin) { return origin === ancestors[0]; })
    : allowed;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    targets.forEach(function (origin) {
      window.parent.postMessage({ type: "mentoring40:resize", height: height }, origin);
    });
  }
  if ("ResizeObserver" in window) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  document.addEventListener("m40:results", report);
  // The page shows another part of itself (the Quickcheck's next part): the partner page
  // scrolls there. Only the offset in pixels is sent.
  document.addEventListener("m40:show", function (event) {
    var top = Math.round((event.detail && event.detail.top) || 0);
    targets.forEach(function (origin) {
      window.parent.postMessage({ type: "mentoring40:show", top: top }, origin);
    });
  });
  report();
})();
