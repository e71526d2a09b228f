/* The live channel's client: one EventSource per page (see sessions/live.py).
 *
 * Each message is a snapshot of the page's live regions, elements with ids.
 * A region is swapped (with htmx's own swap) only if it changed; open
 * <details> stay open and fields marked hx-preserve keep what is typed. The
 * client remembers the last sequence number and, when the browser gives up
 * on the stream (a 502 during a restart, say), reconnects with ?last=. If
 * the stream never starts flowing (a buffering proxy), it polls instead.
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
  var separator = url.indexOf("?") === -1 ? "?" : "&";
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
    var answered = " " + states.getAttribute("data-answered") + " ";
    each(document.querySelectorAll("#mine [data-cause]"), function (item) {
      var id = " " + item.getAttribute("data-cause") + " ";
      if (answered.indexOf(id) !== -1) {
        item.setAttribute("data-answered", "");
      }
      if (shown.indexOf(id) !== -1) {
        item.setAttribute("data-state", "visible");
      } else if (removed.indexOf(id) !== -1) {
        item.setAttribute("data-state", "hidden");
      }
    });
  }

  function receive(seq, html) {
    if (!(seq > last)) {
      return;
    }
    last = seq;
    body.setAttribute("data-seq", String(seq));
    apply(html);
  }

  function connect() {
    var flowing = false;
    source = new EventSource(url + separator + "last=" + last);
    source.addEventListener("hello", function () {
      flowing = true;
      body.classList.remove("is-offline");
    });
    source.addEventListener("snapshot", function (event) {
      receive(parseInt(event.lastEventId, 10), event.data);
    });
    source.onopen = function () {
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
    /* A proxy that buffers holds back even the first "hello": poll instead. */
    setTimeout(function () {
      if (!flowing && source.readyState === EventSource.OPEN) {
        source.close();
        poll();
      }
    }, 8000);
  }

  function poll() {
    if (!window.fetch) { return; }
    fetch(url + separator + "poll=1&last=" + last, { credentials: "same-origin" })
      .then(function (response) {
        body.classList.toggle("is-offline", !response.ok);
        if (response.status !== 200) { return; }
        var seq = parseInt(response.headers.get("X-Seq"), 10);
        return response.text().then(function (html) { receive(seq, html); });
      })
      .catch(function () { body.classList.add("is-offline"); })
      .then(function () { setTimeout(poll, 3000); });
  }

  document.addEventListener("htmx:afterSettle", showOwnStates);
  connect();
})();
