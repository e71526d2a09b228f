/* The phone's text boxes on a poor network: nothing typed is lost.
 *
 * What is typed is kept in localStorage as a draft (per session and form)
 * until the server has it. A send that fails because the network is gone
 * keeps the text, says so, and is sent again, as the same form with the
 * same submission key (so the server never saves it twice), when the phone
 * is back online or the live stream says hello again (static/js/live.js).
 */
(function () {
  "use strict";
  var store = null;
  try { store = window.localStorage; } catch (e) { /* blocked: no drafts */ }
  var waiting = {};

  function draftKey(form) { return "butwhy-draft " + form.getAttribute("action"); }
  function remember(form, text) {
    if (!store) { return; }
    try {
      if (text) { store.setItem(draftKey(form), text); } else { store.removeItem(draftKey(form)); }
    } catch (e) { /* full or private: the text box still holds it */ }
  }
  /* A form people type in (it may have been swapped out by its own answer). */
  function composing(element) {
    var form = element && element.closest && element.closest("form");
    return form && form.querySelector("textarea") ? form : null;
  }
  /* Fill the empty text boxes from their drafts (a reload, a phone that
   * closed the browser while offline). */
  function restore() {
    if (!store) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("#compose form"), function (form) {
      var box = form.querySelector("textarea");
      var draft = box && store.getItem(draftKey(form));
      if (draft && !box.value) { box.value = draft; }
    });
  }
  function notice(shown) {
    var element = document.querySelector("#compose .not-sent");
    if (!element) { return; }
    element.hidden = !shown;
    var status = document.getElementById("announce");
    if (shown && status) { status.textContent = element.textContent; }
  }
  function sendWaiting() {
    Object.keys(waiting).forEach(function (id) {
      delete waiting[id];
      var form = document.getElementById(id);
      var box = form && form.querySelector("textarea");
      if (box && box.value.trim()) { form.requestSubmit(); }
    });
  }

  document.addEventListener("input", function (event) {
    var form = composing(event.target);
    if (form && event.target.tagName === "TEXTAREA") { remember(form, event.target.value); }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var form = composing(event.detail.elt);
    if (!form) { return; }
    remember(form, form.querySelector("textarea").value);
    waiting[form.id] = true;
    notice(true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    /* detail.elt is the body when the form was swapped out by its answer. */
    var config = event.detail.requestConfig;
    var form = composing((config && config.elt) || event.detail.elt);
    if (form && event.detail.successful) { remember(form, ""); }
  });
  window.addEventListener("online", sendWaiting);
  document.addEventListener("live:hello", sendWaiting);
  restore();
})();
