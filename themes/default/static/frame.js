/* Inside the partner's iframe: tell the parent page how tall the content is, so
   embed.js can size the frame. Only the height is sent; no cookies are used. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "mentoring40:resize", height: height, path: location.pathname }, "*");
  }
  if ("ResizeObserver" in window) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  document.addEventListener("m40:results", report);
  report();
})();
