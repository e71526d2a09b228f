/* A stale CSRF token, on any htmx form of any page (phone, console, …).
 *
 * When the csrftoken cookie is gone (cleared, expired, or rotated by a login
 * in the same browser), a post is refused with a 403 that carries the
 * X-CSRF-Failed header (sessions/views/recovery.py). The refusal is not
 * swapped into the page, so the form and what was typed stay as they are;
 * this asks the server for a fresh token, puts it in every form of the page
 * and in the htmx headers, and sends the same request again, once. If that
 * is refused too, the page says so.
 */
(function () {
  "use strict";
  var body = document.body;
  var notice = document.getElementById("csrf-notice");
  var RESENT = "X-CSRF-Resent";
  var hiding = null;

  function say(kind) {
    if (!notice) { return; }
    clearTimeout(hiding);
    notice.textContent = notice.getAttribute("data-" + kind) || "";
    notice.hidden = false;
    if (kind === "resent") {
      hiding = setTimeout(function () { notice.hidden = true; }, 6000);
    }
  }

  function useToken(token) {
    Array.prototype.forEach.call(
      document.querySelectorAll('input[name="csrfmiddlewaretoken"]'),
      function (input) { input.value = token; }
    );
    var headers = {};
    try { headers = JSON.parse(body.getAttribute("hx-headers") || "{}"); } catch (e) { /* rebuilt below */ }
    headers["x-csrftoken"] = token;
    body.setAttribute("hx-headers", JSON.stringify(headers));
  }

  function resend(config, token) {
    var values = new FormData();
    if (config.formData) {
      config.formData.forEach(function (value, name) {
        if (name !== "csrfmiddlewaretoken") { values.append(name, value); }
      });
    }
    values.append("csrfmiddlewaretoken", token);
    var headers = {};
    headers[RESENT] = "1";
    var source = config.elt;
    if (!source || !source.isConnected) {
      /* Swapped out meanwhile (a live update): its new copy, if it has an id. */
      source = source && source.id ? document.getElementById(source.id) : null;
    }
    if (!source) { say("failed"); return; }
    htmx.ajax(config.verb.toUpperCase(), config.path, {
      source: source, values: values, headers: headers
    });
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 403 || !xhr.getResponseHeader("X-CSRF-Failed")) { return; }
    /* Keep the form, and what was typed, as it is. */
    event.detail.shouldSwap = false;
    var config = event.detail.requestConfig;
    if (!config || (config.headers && config.headers[RESENT])) {
      say("failed");
      return;
    }
    fetch(body.getAttribute("data-csrf-url") || "/csrf/", {
      credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("no token"); }
        return response.json();
      })
      .then(function (data) {
        useToken(data.token);
        resend(config, data.token);
      })
      .catch(function () { say("failed"); });
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var config = event.detail.requestConfig;
    if (config && config.headers && config.headers[RESENT] && event.detail.successful) {
      say("resent");
    }
  });
})();
