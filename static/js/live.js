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
  /* What the page follows besides its regions ("tree=1": everyone's answers),
   * in the stream's query; a page changes it with a "live:follow" event. */
  var follows = url.indexOf("?") === -1 ? "" : url.slice(url.indexOf("?") + 1);
  url = url.split("?")[0];
  var last = parseInt(body.getAttribute("data-seq") || "0", 10);
  var applied = {};
  var waiting = {};
  var source = null;
  var retry = 1000;
  var timer = null;
  function address(query) {
    return url + "?" + (follows ? follows + "&" : "") + query;
  }
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  /* Screen readers: what arrives (an element marked data-announce="kind id"
   * that was not on the page before) is said in #announce, a small polite
   * status, so nobody's focus moves and big regions are not read again. */
  var announcer = document.getElementById("announce");
  var known = {};
  var question = null;
  function announced() {
    var found = [];
    each(document.querySelectorAll("[data-announce]"), function (element) {
      var value = element.getAttribute("data-announce");
      var kind = value.split(" ")[0];
      var text = element.textContent.replace(/\s+/g, " ").trim();
      if (kind === "question") {
        /* The same question asked again is news again. */
        if (text !== question) { question = text; found.push(text); }
        return;
      }
      var key = value + "\n" + text;
      if (!known[key]) {
        known[key] = true;
        found.push(((announcer && announcer.getAttribute("data-" + kind)) || "") + " " + text);
      }
    });
    return found;
  }
  announced();
  function announceNew() {
    var found = announced();
    if (!announcer || !found.length) { return; }
    announcer.textContent = "";
    /* A change of text after a moment is announced even if it is the same. */
    var text = found.slice(-3).map(function (said) {
      said = said.trim();
      return /[.?!…]$/.test(said) ? said : said + ".";
    }).join(" ");
    setTimeout(function () { announcer.textContent = text; }, 100);
  }

  function apply(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    each(template.content.children, function (region) {
      var current = region.id && document.getElementById(region.id);
      var markup = region.outerHTML;
      if (!current || applied[region.id] === markup) {
        return;
      }
      /* A button of this region is waiting for its answer: swapping the region
       * now would leave htmx answering into the old, detached one. */
      if (current.matches(".htmx-request") || current.querySelector(".htmx-request")) {
        waiting[region.id] = markup;
        return;
      }
      delete waiting[region.id];
      applied[region.id] = markup;
      var open = [];
      each(current.querySelectorAll("details[open][id]"), function (d) { open.push(d.id); });
      htmx.swap(current, markup, { swapStyle: "outerHTML" });
      open.forEach(function (id) {
        var details = document.getElementById(id);
        if (details) { details.open = true; }
      });
    });
    swapped();
  }

  /* Regions changed (a message, or an htmx answer): a page's own script
   * (static/js/phone.js) sets what is its own in them, then they are announced. */
  function swapped() {
    document.dispatchEvent(new CustomEvent("live:swapped"));
    announceNew();
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
    var own = source = new EventSource(address("last=" + last));
    own.addEventListener("hello", function () {
      flowing = true;
      body.classList.remove("is-offline");
      /* Back in touch with the server: static/js/phone.js sends what waits. */
      document.dispatchEvent(new CustomEvent("live:hello"));
    });
    own.addEventListener("snapshot", function (event) {
      receive(parseInt(event.lastEventId, 10), event.data);
    });
    own.onopen = function () {
      retry = 1000;
    };
    own.onerror = function () {
      body.classList.add("is-offline");
      if (own === source && own.readyState === EventSource.CLOSED) {
        clearTimeout(timer);
        /* Jittered, so that a room of phones cut by a restart spreads out. */
        timer = setTimeout(connect, retry * (0.5 + Math.random()));
        retry = Math.min(retry * 2, 10000);
      }
    };
    /* A proxy that buffers holds back even the first "hello": poll instead. */
    setTimeout(function () {
      if (!flowing && own === source && own.readyState === EventSource.OPEN) {
        own.close();
        poll();
      }
    }, 8000);
  }

  /* The page follows something else now: a new stream, which starts with
   * a whole snapshot of what it follows. */
  document.addEventListener("live:follow", function (event) {
    var query = event.detail || "";
    if (query === follows) { return; }
    follows = query;
    last = 0;
    if (source && source.readyState !== EventSource.CLOSED) {
      source.close();
      clearTimeout(timer);
      connect();
    }
  });

  function poll() {
    if (!window.fetch) { return; }
    fetch(address("poll=1&last=" + last), { credentials: "same-origin" })
      .then(function (response) {
        body.classList.toggle("is-offline", !response.ok);
        if (response.status !== 200) { return; }
        var seq = parseInt(response.headers.get("X-Seq"), 10);
        return response.text().then(function (html) { receive(seq, html); });
      })
      .catch(function () { body.classList.add("is-offline"); })
      .then(function () { setTimeout(poll, 3000); });
  }

  /* The request ended (its own answer swapped already): the regions held back meanwhile. */
  document.addEventListener("htmx:afterRequest", function () {
    var held = Object.keys(waiting).map(function (id) { return waiting[id]; }).join("");
    waiting = {};
    if (held) { apply(held); }
  });
  document.addEventListener("htmx:afterSettle", swapped);
  connect();
})();
