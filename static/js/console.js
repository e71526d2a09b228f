/* Keyboard shortcuts for the facilitator's console (listed on the page).
 * Every control is also a real button or link, reachable with Tab; these
 * keys only make the common steps quicker. Ctrl+Enter sends a text box. */
(function () {
  "use strict";
  function click(selector) {
    var element = document.querySelector(selector);
    if (element && !element.disabled && element.offsetParent !== null) {
      element.click();
      return true;
    }
    return false;
  }
  function focus(selector) {
    var element = document.querySelector(selector);
    if (element && element.offsetParent !== null) {
      element.focus();
      return true;
    }
    return false;
  }
  /* j / k: the next or previous cause's "But why?" (or its first button). */
  function step(by) {
    var causes = Array.prototype.slice.call(document.querySelectorAll("#ctree .cause"));
    if (!causes.length) { return true; }
    var current = causes.indexOf(document.activeElement && document.activeElement.closest(".cause"));
    var next = causes[Math.max(0, Math.min(causes.length - 1, current + by))];
    if (current === -1) { next = by > 0 ? causes[0] : causes[causes.length - 1]; }
    var target = next.querySelector("button, a");
    if (target) { target.focus(); }
    return true;
  }
  var keys = {
    "?": function () {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = !help.open; }
      return Boolean(help);
    },
    a: function () { return focus("#add-text"); },
    w: function () { return focus("#action-text"); },
    u: function () { return click("#undo"); },
    s: function () { return click("#to-situation"); },
    r: function () { return click("#reveal") || click("#unreveal"); },
    t: function () { return click("#timer-start") || click("#timer-stop"); },
    o: function () { return click("#open-close"); },
    p: function () { return click("#open-projector"); },
    j: function () { return step(1); },
    k: function () { return step(-1); },
    1: function () { return click("#phase-why"); },
    2: function () { return click("#phase-reflect"); },
    3: function () { return click("#phase-act"); },
    4: function () { return click("#phase-agree"); },
    5: function () { return click("#phase-review"); }
  };
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
        event.preventDefault();
        target.form.requestSubmit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var action = keys[event.key];
    if (action && action()) { event.preventDefault(); }
  });
})();
