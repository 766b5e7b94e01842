/* The Quickcheck form, with JavaScript: one part (dimension) at a time with a progress
   bar, and the answers kept in this browser (localStorage) until the form is sent, so
   leaving the page loses nothing. Without JavaScript every part shows and the form posts
   as a whole; the server checks everything either way. Inside a partner's frame the
   page reports where the new part starts (event m40:show, sent on by frame.js). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-quickcheck]");
  if (!form) return;
  var key = form.dataset.storeKey;
  var sections = Array.prototype.slice.call(form.querySelectorAll("[data-section]"));
  var actions = form.querySelector(".form-actions");
  var current = 0;

  // -- answers kept in this browser ------------------------------------------------------
  function fields() {
    return Array.prototype.filter.call(form.elements, function (f) { return /^[ar]\./.test(f.name || ""); });
  }
  function snapshot() {
    var values = {};
    fields().forEach(function (f) {
      if ((f.type === "radio" || f.type === "checkbox") ? f.checked : f.value !== "") {
        (values[f.name] = values[f.name] || []).push(f.value);
      }
    });
    return { values: values, section: current };
  }
  function save() {
    try { localStorage.setItem(key, JSON.stringify(snapshot())); } catch (e) { /* storage off: nothing kept */ }
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function forget() {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  function fill(values) {
    fields().forEach(function (f) {
      var given = values[f.name] || [];
      if (f.type === "radio" || f.type === "checkbox") f.checked = given.indexOf(f.value) >= 0;
      else f.value = given[0] || "";
    });
    form.dispatchEvent(new Event("change"));  // quickcheck.js shows the follow-up questions
  }

  var saved = key && !form.hasAttribute("data-server-state") ? load() : null;
  if (saved && saved.values && Object.keys(saved.values).length) {
    fill(saved.values);
    current = Math.min(Math.max(0, saved.section | 0), Math.max(0, sections.length - 1));
    var notice = document.createElement("div");
    notice.className = "notice qc-restored";
    notice.setAttribute("role", "status");
    notice.innerHTML = "<p>Ihre Antworten von vorhin sind wiederhergestellt.</p>" +
      "<button type=\"button\" class=\"button small\">Neu beginnen</button>";
    notice.querySelector("button").addEventListener("click", function () {
      forget();
      fill({});
      notice.remove();
      show(0, true);
    });
    form.parentNode.insertBefore(notice, form);
  }
  form.addEventListener("change", save);
  form.addEventListener("input", save);
  // Not forgotten on submit: if the request fails, the answers are still here. The result
  // page forgets them (actions.js, [data-clear-answers]) once the result has arrived.

  // -- one part at a time ----------------------------------------------------------------
  if (sections.length < 2) return;
  var progress = document.createElement("div");
  progress.className = "qc-progress";
  progress.innerHTML = "<p id=\"qc-progress-text\"></p><progress max=\"1\" value=\"0\" aria-labelledby=\"qc-progress-text\"></progress>";
  form.insertBefore(progress, form.firstChild);
  var text = progress.querySelector("p");
  var bar = progress.querySelector("progress");

  sections.forEach(function (section, i) {
    var nav = document.createElement("div");
    nav.className = "qc-section-nav";
    if (i > 0) nav.appendChild(button("← Zurück", i - 1, ""));
    if (i < sections.length - 1) nav.appendChild(button("Weiter →", i + 1, "primary"));
    section.appendChild(nav);
  });
  function button(label, target, kind) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button " + kind;
    b.textContent = label;
    b.addEventListener("click", function () { show(target, true); });
    return b;
  }

  function answered() {
    var boxes = Array.prototype.filter.call(form.querySelectorAll("[data-item]"), function (b) { return !b.hidden; });
    var done = boxes.filter(function (box) {
      return Array.prototype.some.call(box.querySelectorAll("input, select, textarea"), function (f) {
        return (f.type === "radio" || f.type === "checkbox") ? f.checked : f.value.trim() !== "";
      });
    });
    return [done.length, boxes.length];
  }
  function update() {
    var counts = answered();
    text.textContent = "Teil " + (current + 1) + " von " + sections.length + " · " +
      counts[0] + " von " + counts[1] + " Fragen beantwortet";
    bar.max = Math.max(1, counts[1]);
    bar.value = counts[0];
  }
  function show(index, moveFocus) {
    current = index;
    sections.forEach(function (s, i) { s.hidden = i !== index; });
    actions.hidden = index !== sections.length - 1;
    update();
    save();
    if (!moveFocus) return;
    var heading = sections[index].querySelector("h2");
    if (heading) heading.focus({ preventScroll: true });
    var top = form.getBoundingClientRect().top + window.scrollY;
    if (window.parent !== window) document.dispatchEvent(new CustomEvent("m40:show", { detail: { top: top } }));
    else window.scrollTo(0, top);
  }
  function sectionOf(node) {
    return sections.findIndex(function (s) { return s.contains(node); });
  }
  // A link to a question (the list of missing answers) opens its part first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#frage-']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var at = target ? sectionOf(target) : -1;
    if (at >= 0 && at !== current) show(at, false);
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);

  var firstError = form.querySelector(".question.has-error");
  if (firstError) current = Math.max(0, sectionOf(firstError));
  show(current, false);
})();
