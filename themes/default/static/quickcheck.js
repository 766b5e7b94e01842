/* Quickcheck: hide questions whose condition is not met, and keep "keine Angabe"
   exclusive in multiple choice. The server evaluates the same declarative conditions
   and ignores answers to hidden questions, so this is comfort, not enforcement. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-quickcheck]");
  if (!form) return;

  function answers() {
    var result = {};
    form.querySelectorAll("[data-item]").forEach(function (box) {
      if (box.hidden) return;
      var id = box.dataset.item;
      var checked = box.querySelectorAll("input[name='a." + id + "']:checked");
      var checkbox = box.querySelector("input[type=checkbox][name='a." + id + "']");
      if (checkbox) {
        if (checked.length) result[id] = Array.prototype.map.call(checked, function (i) { return i.value; });
      } else if (checked.length) {
        result[id] = checked[0].value;
      } else {
        // Only a text or number field: an unanswered radio group has no value.
        var field = box.querySelector("textarea[name='a." + id + "'], input[type=text][name='a." + id + "']");
        if (field && field.value.trim() !== "") {
          var number = Number(field.value.replace(",", "."));
          result[id] = field.getAttribute("inputmode") === "decimal" && !isNaN(number) ? number : field.value;
        }
      }
    });
    return result;
  }

  function answered(value) {
    return value !== undefined && value !== null && value !== "keine-angabe" &&
      !(Array.isArray(value) && value.length === 1 && value[0] === "keine-angabe");
  }

  function evaluate(c, a) {
    if (c.all) return c.all.every(function (x) { return evaluate(x, a); });
    if (c.any) return c.any.some(function (x) { return evaluate(x, a); });
    if (c.not) return !evaluate(c.not, a);
    var v = a[c.item];
    switch (c.op) {
      case "answered": return answered(v) === Boolean(c.value);
      case "eq": return v !== undefined && v === c.value;
      case "ne": return v === undefined || v !== c.value;
      case "in": return v !== undefined && c.value.indexOf(v) >= 0;
      case "not_in": return v === undefined || c.value.indexOf(v) < 0;
      case "contains": return Array.isArray(v) && v.indexOf(c.value) >= 0;
      case "gt": return typeof v === "number" && v > c.value;
      case "gte": return typeof v === "number" && v >= c.value;
      case "lt": return typeof v === "number" && v < c.value;
      case "lte": return typeof v === "number" && v <= c.value;
      default: return true;
    }
  }

  function update() {
    // In document order, so a condition sees only earlier, visible answers.
    form.querySelectorAll("[data-item]").forEach(function (box) {
      if (!box.dataset.visibleIf) return;
      var show = evaluate(JSON.parse(box.dataset.visibleIf), answers());
      box.hidden = !show;
      box.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = !show; });
    });
  }

  form.addEventListener("change", function (event) {
    var field = event.target;
    if (field.type === "checkbox" && field.checked) {
      var group = form.querySelectorAll("input[type=checkbox][name='" + field.name + "']");
      group.forEach(function (other) {
        if (other === field) return;
        if (field.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive")) other.checked = false;
      });
    }
    update();
  });
  form.addEventListener("input", update);
  update();
})();
