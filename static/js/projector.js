/* The projector's own controls, all from the keyboard: full screen (F),
 * text size (+ and -), light or dark (T). The choices stay with this
 * browser. And the round timer, counted down from the server's clock. */
(function () {
  "use strict";
  var root = document.documentElement;
  var body = document.body;
  var store = window.localStorage;
  var scale = parseFloat((store && store.getItem("butwhy-scale")) || "1") || 1;
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
    "+": function () { scale = Math.min(2, Math.round((scale + 0.1) * 10) / 10); remember("butwhy-scale", scale); apply(); },
    "-": function () { scale = Math.max(0.6, Math.round((scale - 0.1) * 10) / 10); remember("butwhy-scale", scale); apply(); },
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
})();
