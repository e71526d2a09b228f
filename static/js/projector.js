/* The projector's own controls, all from the keyboard: full screen (F),
 * text size (+ and -), light or dark (T). The choices stay with this
 * browser. And the round timer, counted down from the server's clock. */
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;
  var store = window.localStorage;
  /* From 0.8 to 1.4: past that the situation and the question would leave
   * the tree too little of the screen. */
  var scale = Math.min(1.4, Math.max(0.8, parseFloat((store && store.getItem("butwhy-scale")) || "1") || 1));
  var theme = (store && store.getItem("butwhy-theme")) || "light";

  function remember(key, value) {
    try { store.setItem(key, value); } catch (e) { /* private mode: forget */ }
  }

  function apply() {
    root.style.setProperty("--scale", String(scale));
    body.classList.toggle("theme-dark", theme === "dark");
  }

  var actions = {
    f: function () {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else if (root.requestFullscreen) {
        root.requestFullscreen().catch(function () {});
      }
    },
    "+": function () { scale = Math.min(1.4, Math.round((scale + 0.1) * 10) / 10); remember("butwhy-scale", scale); apply(); },
    "-": function () { scale = Math.max(0.8, Math.round((scale - 0.1) * 10) / 10); remember("butwhy-scale", scale); apply(); },
    t: function () { theme = theme === "dark" ? "light" : "dark"; remember("butwhy-theme", theme); apply(); }
  };
  actions["="] = actions["+"];

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var action = actions[event.key.toLowerCase()];
    if (action) {
      event.preventDefault();
      action();
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll(".projector-tools [data-key]"), function (button) {
    button.addEventListener("click", function () { actions[button.getAttribute("data-key")](); });
  });

  /* The timer: #timer is swapped by the live channel; it carries the end
   * and the server's time when it was rendered. */
  var offset = 0;
  var seenNow = null;
  var done = document.querySelector(".timer-done-label");
  function tick() {
    var timer = document.getElementById("timer");
    if (!timer) { return; }
    var ends = parseInt(timer.getAttribute("data-ends"), 10);
    if (!ends) { return; }
    var now = timer.getAttribute("data-now");
    if (now !== seenNow) {
      seenNow = now;
      offset = parseInt(now, 10) - Date.now();
    }
    var left = Math.max(0, Math.round((ends - (Date.now() + offset)) / 1000));
    var text = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
    if (left === 0 && done) { text = done.textContent; }
    if (timer.textContent !== text) {
      timer.textContent = text;
      timer.classList.toggle("is-done", left === 0);
    }
  }
  apply();
  tick();
  setInterval(tick, 250);

  /* The plan screens (ideas, the plan, the review) fit their place as the
   * tree does: smaller words first, down to 60 %, then the last ideas (and
   * then the last actions) fold behind a visible "Not shown here: N". */
  var planFolded = document.getElementById("plan-folded");
  function overflows(plan) {
    return plan.scrollHeight > plan.clientHeight + 1 || plan.scrollWidth > plan.clientWidth + 1;
  }
  function fold(plan) {
    var items = Array.prototype.slice.call(plan.querySelectorAll(".plan-list > li"), 1)
      .concat(Array.prototype.slice.call(plan.querySelectorAll(".ideas > li:not(.muted)")));
    while (overflows(plan) && items.length) {
      var item = items.pop();
      var list = item.parentNode;
      item.hidden = true;
      var marker = list.querySelector(":scope > .folded");
      if (!marker) {
        marker = document.createElement("li");
        marker.className = "folded";
        marker.setAttribute("data-count", "0");
        list.appendChild(marker);
      }
      var count = parseInt(marker.getAttribute("data-count"), 10) + 1;
      marker.setAttribute("data-count", String(count));
      marker.textContent = (planFolded ? planFolded.textContent : "+") + " " + count;
    }
  }
  function fitPlan() {
    var plan = document.getElementById("plan");
    if (!plan) { return; }
    plan.style.removeProperty("font-size");
    Array.prototype.forEach.call(plan.querySelectorAll(".folded"), function (marker) { marker.remove(); });
    Array.prototype.forEach.call(plan.querySelectorAll("li[hidden]"), function (item) { item.hidden = false; });
    if (plan.hidden) { return; }
    var base = parseFloat(window.getComputedStyle(plan).fontSize);
    var size = base;
    while (overflows(plan) && size > base * 0.6) {
      size = size * 0.92;
      plan.style.fontSize = size + "px";
    }
    fold(plan);
  }
  fitPlan();
  document.addEventListener("htmx:afterSettle", fitPlan);
  window.addEventListener("resize", fitPlan);
  document.addEventListener("keydown", function () { window.requestAnimationFrame(fitPlan); });

  /* The drawing: a cause that was not there before fades in (CSS, which
   * reduced motion turns off). The outline under it (an ARIA tree, hidden
   * from sight) is walked with the arrow keys; the cause it is on is framed
   * in the drawing. */
  var seen = null;
  var walking = null; /* the cause the keyboard is on, kept across live swaps */
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function marked() {
    var now = {};
    each(document.querySelectorAll("#tree .diagram [data-cause]"), function (box) {
      var id = box.getAttribute("data-cause");
      now[id] = true;
      if (seen && !seen[id]) {
        box.classList.add("is-new");
        var link = document.querySelector('#tree .links [data-to="cause-' + id + '"]');
        if (link) { link.classList.add("is-new"); }
      }
    });
    seen = now;
  }
  function items() { return Array.prototype.slice.call(document.querySelectorAll("#tree [role=treeitem]")); }
  function frame(id) {
    each(document.querySelectorAll("#tree .diagram .is-kbd"), function (box) { box.classList.remove("is-kbd"); });
    var item = id && document.querySelector('#tree [role=treeitem][data-cause="' + id + '"]');
    /* A cause folded away: its nearest drawn ancestor stands for it. */
    while (item) {
      var box = document.getElementById("box-cause-" + item.getAttribute("data-cause"));
      if (box) { box.classList.add("is-kbd"); return; }
      var parent = item.getAttribute("data-parent");
      item = parent && document.querySelector('#tree [role=treeitem][data-cause="' + parent + '"]');
    }
  }
  function roving() {
    var all = items();
    if (!all.length) { return; }
    var current = all.filter(function (i) { return i.getAttribute("data-cause") === walking; })[0] ||
      all.filter(function (i) { return i.classList.contains("is-focus"); })[0] || all[0];
    all.forEach(function (i) { i.tabIndex = i === current ? 0 : -1; });
    if (walking && current.getAttribute("data-cause") === walking && document.activeElement === body) {
      current.focus();
    }
  }
  function move(item, to) {
    if (!to) { return; }
    item.tabIndex = -1;
    to.tabIndex = 0;
    to.focus();
  }
  document.addEventListener("keydown", function (event) {
    var item = event.target.closest && event.target.closest("#tree [role=treeitem]");
    if (!item) { return; }
    var all = items();
    var at = all.indexOf(item);
    var level = parseInt(item.getAttribute("aria-level"), 10);
    var to = null;
    if (event.key === "ArrowDown") { to = all[at + 1]; }
    else if (event.key === "ArrowUp") { to = all[at - 1]; }
    else if (event.key === "Home") { to = all[0]; }
    else if (event.key === "End") { to = all[all.length - 1]; }
    else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      var back = (event.key === "ArrowLeft") !== (root.dir === "rtl");
      if (back) {
        to = document.querySelector('#tree [role=treeitem][data-cause="' + item.getAttribute("data-parent") + '"]');
      } else if (all[at + 1] && parseInt(all[at + 1].getAttribute("aria-level"), 10) === level + 1) {
        to = all[at + 1];
      }
    } else { return; }
    event.preventDefault();
    move(item, to);
  });
  document.addEventListener("focusin", function (event) {
    var item = event.target.closest && event.target.closest("#tree [role=treeitem]");
    if (item) { walking = item.getAttribute("data-cause"); frame(walking); }
  });
  document.addEventListener("focusout", function (event) {
    var to = event.relatedTarget;
    if (event.target.closest && event.target.closest("#tree [role=treeitem]") &&
        !(to && to.closest && to.closest("#tree [role=treeitem]"))) {
      frame(null);
      /* Focus gone elsewhere: forget the walk. Gone nowhere (a live swap took
       * the item away): come back to it when it is there again. */
      if (to) { walking = null; }
    }
  });
  /* The pause covers the room: what is behind it can be neither read nor reached. */
  function calm() {
    var pause = document.getElementById("pause");
    var paused = !!pause && !pause.hidden;
    each(document.querySelectorAll(".stage, .projector-tools"), function (part) { part.inert = paused; });
  }
  function refresh() { calm(); marked(); roving(); if (walking) { frame(walking); } }
  refresh();
  document.addEventListener("htmx:afterSettle", refresh);
})();
