/* The live channel's client: one EventSource per page (see sessions/live.py).
 *
 * Each message is a snapshot of the page's live regions, elements with ids.
 * A region is swapped (with htmx's own swap) only if it changed; open
 * <details> stay open and fields marked hx-preserve keep what is typed. The
 * client remembers the last sequence number and, when the browser gives up
 * on the stream (a 502 during a restart, say), reconnects with ?last=.
 */
(function () {
  "use strict";
  var body = document.body;
  var url = body.getAttribute("data-stream");
  if (!url || !window.EventSource || !window.htmx) {
    return;
  }
  var last = parseInt(body.getAttribute("data-seq") || "0", 10);
  var applied = {};
  var source = null;
  var retry = 1000;
  var timer = null;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function apply(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    each(template.content.children, function (region) {
      var current = region.id && document.getElementById(region.id);
      var markup = region.outerHTML;
      if (!current || applied[region.id] === markup) {
        return;
      }
      applied[region.id] = markup;
      var open = [];
      each(current.querySelectorAll("details[open][id]"), function (d) { open.push(d.id); });
      htmx.swap(current, markup, { swapStyle: "outerHTML" });
      open.forEach(function (id) {
        var details = document.getElementById(id);
        if (details) { details.open = true; }
      });
    });
    showOwnStates();
  }

  /* Phones: the broadcast says which causes are on the board or taken off;
   * the phone's own answers (rendered for it alone) follow. */
  function showOwnStates() {
    var states = document.getElementById("states");
    if (!states) { return; }
    var shown = " " + states.getAttribute("data-shown") + " ";
    var removed = " " + states.getAttribute("data-removed") + " ";
    each(document.querySelectorAll("#mine [data-cause]"), function (item) {
      var id = " " + item.getAttribute("data-cause") + " ";
      if (shown.indexOf(id) !== -1) {
        item.setAttribute("data-state", "visible");
      } else if (removed.indexOf(id) !== -1) {
        item.setAttribute("data-state", "hidden");
      }
    });
  }

  function connect() {
    var separator = url.indexOf("?") === -1 ? "?" : "&";
    source = new EventSource(url + separator + "last=" + last);
    source.addEventListener("snapshot", function (event) {
      var seq = parseInt(event.lastEventId, 10);
      if (!(seq > last)) {
        return;
      }
      last = seq;
      body.setAttribute("data-seq", String(seq));
      apply(event.data);
    });
    source.onopen = function () {
      body.classList.remove("is-offline");
      retry = 1000;
    };
    source.onerror = function () {
      body.classList.add("is-offline");
      if (source.readyState === EventSource.CLOSED) {
        clearTimeout(timer);
        timer = setTimeout(connect, retry);
        retry = Math.min(retry * 2, 10000);
      }
    };
  }

  document.addEventListener("htmx:afterSettle", showOwnStates);
  connect();
})();
