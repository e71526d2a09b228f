/* The facilitator's console: its keyboard shortcuts (listed on the page) and
 * the dialog where a cause's tags, wording, merge and move are done in place.
 * Every control is also a real button, link or form, reachable with Tab and
 * working without JavaScript (the link opens the cause's own page); these
 * lines only make the common steps quicker (L moves a cause one level out). Ctrl+Enter sends a text box. */
(function () {
  "use strict";
  var dialog = document.getElementById("cause-dialog");
  var panelFor = null;
  var panelFocus = null;

  function visible(element) {
    return element && element.offsetParent !== null;
  }
  function click(selector) {
    var element = document.querySelector(selector);
    if (visible(element) && !element.disabled) {
      element.click();
      return true;
    }
    return false;
  }
  function focus(selector) {
    var element = document.querySelector(selector);
    if (visible(element)) {
      element.focus();
      return true;
    }
    return false;
  }
  function causes() {
    return Array.prototype.slice.call(document.querySelectorAll("#ctree .cause"));
  }
  /* The cause the keyboard is on (J and K move it), or null. */
  function current() {
    var active = document.activeElement;
    return (active && active.closest && active.closest("#ctree .cause")) || null;
  }
  /* j / k: the next or previous cause's "But why?" (or its first button). */
  function step(by) {
    var all = causes();
    if (!all.length) { return true; }
    var index = all.indexOf(current());
    var next = all[Math.max(0, Math.min(all.length - 1, index + by))];
    if (index === -1) { next = by > 0 ? all[0] : all[all.length - 1]; }
    var target = next.querySelector("button, a");
    if (target) { target.focus(); }
    return true;
  }
  /* h, m: a button of the current cause; e, d, v: its dialog, at one field. */
  function onCause(prefix) {
    var cause = current();
    if (!cause) { return step(1); }
    resume = causes().indexOf(cause);
    return click("#" + prefix + "-" + cause.getAttribute("data-cause"));
  }
  /* After a hide the cause (and the focus) is gone: the keyboard goes on
   * from the cause that took its place. */
  var resume = -1;
  document.addEventListener("htmx:afterRequest", function () {
    var index = resume;
    resume = -1;
    if (index < 0 || (document.activeElement && document.activeElement !== document.body)) { return; }
    var all = causes();
    var next = all[Math.min(index, all.length - 1)];
    var target = next && next.querySelector("button, a");
    if (target) { target.focus({ preventScroll: true }); }
  });
  function panel(field) {
    var cause = current();
    if (!cause) { return step(1); }
    var link = document.getElementById("more-" + cause.getAttribute("data-cause"));
    if (!link) { return false; }
    panelFocus = field;
    link.click();
    return true;
  }

  /* The dialog: opened once a cause's panel has arrived in it (watched here,
   * since a live update may have replaced the link that asked for it), and
   * closed once a form in it went through: the console then shows a notice. */
  function opened() {
    var panel = document.getElementById("cause-panel");
    if (!panel || !panel.firstElementChild) { return; }
    if (!dialog.open) { dialog.showModal(); }
    var field = document.getElementById(panelFocus || "") ||
      panel.querySelector("input:not([type=hidden]), select, textarea");
    panelFocus = null;
    if (field) { field.focus(); }
  }
  if (dialog) {
    new MutationObserver(opened).observe(dialog, { childList: true });
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-panel]");
      if (link) { panelFor = link.id; }
    });
    document.addEventListener("htmx:afterRequest", function (event) {
      var element = event.detail.elt;
      if (event.detail.successful && element && element.closest &&
          element.closest("#cause-dialog") && dialog.open) {
        dialog.close();
      }
    });
    dialog.addEventListener("close", function () {
      var back = panelFor && document.getElementById(panelFor);
      var pane = document.getElementById("tree-pane");
      if (back) { back.focus({ preventScroll: true }); } else if (pane) { pane.focus({ preventScroll: true }); }
    });
  }
  /* A notice is put away with its × (or replaced by the next one). */
  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest && event.target.closest("[data-dismiss]");
    var notice = dismiss && dismiss.closest("#notice");
    if (notice) { notice.replaceChildren(); }
  });

  var keys = {
    "?": function () {
      var help = document.getElementById("shortcuts");
      if (!help) { return false; }
      help.open = !help.open;
      if (help.open) {
        help.scrollIntoView({ block: "nearest" });
        help.querySelector("summary").focus({ preventScroll: true });
      }
      return true;
    },
    a: function () { return focus("#add-text"); },
    w: function () { return focus("#action-text"); },
    u: function () { return click("#notice-undo") || click("#undo"); },
    s: function () { return click("#to-situation"); },
    r: function () { return click("#reveal") || click("#unreveal"); },
    t: function () { return click("#timer-start") || click("#timer-stop"); },
    o: function () { return click("#open-close"); },
    b: function () { return click("#pause-toggle"); },
    p: function () { return click("#open-projector"); },
    j: function () { return step(1); },
    k: function () { return step(-1); },
    h: function () { return onCause("hide"); },
    m: function () { return onCause("matters") || panel("tag-matters"); },
    l: function () { return onCause("level"); },
    e: function () { return panel("edit-text"); },
    d: function () { return panel("merge-target"); },
    v: function () { return panel("move-target"); },
    1: function () { return click("#phase-why"); },
    2: function () { return click("#phase-reflect"); },
    3: function () { return click("#phase-act"); },
    4: function () { return click("#phase-agree"); },
    5: function () { return click("#phase-review"); },
    6: function () { return click("#phase-close"); },
    y: function () { return click("#why-else"); }
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
    if (dialog && dialog.open) { return; }
    var action = keys[event.key];
    if (action && action()) { event.preventDefault(); }
  });
})();
