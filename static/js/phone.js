/* The phone's text boxes on a poor network: nothing typed is lost.
 *
 * What is typed is kept in localStorage as a draft (per session and form)
 * until the server has it. A send that fails because the network is gone
 * keeps the text, says so, and is sent again, as the same form with the
 * same submission key (so the server never saves it twice), when the phone
 * is back online or the live stream says hello again (static/js/live.js).
 *
 * It also sets what is this phone's own in the regions everyone gets (its
 * answers' states, its dots) after each swap, and asks the stream for
 * everyone's answers while they are open.
 *
 * An answer belongs to the question it was typed for: the form carries that
 * question (its "parent"), and so does its draft. When the room moves on
 * while something is typed, the phone says so and asks where to send it
 * (.moved-on); an empty form simply follows the room.
 */
(function () {
  "use strict";
  var store = null;
  try { store = window.localStorage; } catch (e) { /* blocked: no drafts */ }
  var waiting = {};

  function draftKey(form) { return "butwhy-draft " + form.getAttribute("action"); }
  /* Beside the text, the question it was typed for: {parent, was}. */
  function askedKey(form) { return "butwhy-asked " + form.getAttribute("action"); }
  function parentOf(form) { return form.querySelector("input[type=hidden][name=parent]"); }
  function remember(form, text) {
    if (!store) { return; }
    try {
      if (!text) {
        store.removeItem(draftKey(form));
        store.removeItem(askedKey(form));
        return;
      }
      store.setItem(draftKey(form), text);
      var parent = parentOf(form);
      var was = form.querySelector(".was");
      if (parent && was) {
        store.setItem(askedKey(form), JSON.stringify({ parent: parent.value, was: was.textContent }));
      }
    } catch (e) { /* full or private: the text box still holds it */ }
  }
  function readAsked(form) {
    try {
      var asked = JSON.parse(store.getItem(askedKey(form)) || "null");
      return asked && typeof asked.parent === "string" ? asked : null;
    } catch (e) { return null; }
  }
  /* A form people type in (it may have been swapped out by its own answer). */
  function composing(element) {
    var form = element && element.closest && element.closest("form");
    return form && form.querySelector("textarea") ? form : null;
  }
  /* The answer form now carries `parent`, shown as the question `was`. */
  function askedIs(form, parent, was) {
    parentOf(form).value = parent;
    form.querySelector(".to-asked").value = parent;
    if (was) { form.querySelector(".was").textContent = was; }
  }
  /* Fill the empty text boxes from their drafts (a reload, a phone that
   * closed the browser while offline), each with its question. */
  function restore() {
    if (!store) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("#compose form"), function (form) {
      var box = form.querySelector("textarea");
      var draft = box && store.getItem(draftKey(form));
      if (!draft || box.value) { return; }
      box.value = draft;
      var asked = form.querySelector(".moved-on") && readAsked(form);
      if (asked) { askedIs(form, asked.parent, asked.was); }
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

  /* The question the room is asked now, or null when it is asked none. */
  function askedNow() {
    var prompt = document.getElementById("prompt");
    if (!prompt || prompt.getAttribute("data-phase") !== "why" || !prompt.hasAttribute("data-open")) {
      return null;
    }
    return prompt.getAttribute("data-question") || "";
  }
  function followTheRoom() {
    var form = document.getElementById("answer-form");
    var choice = form && form.querySelector(".moved-on");
    var now = askedNow();
    /* A send waiting for the network goes where it was sent. */
    if (!choice || now === null || waiting[form.id]) { return; }
    var parent = parentOf(form);
    var typed = form.querySelector("textarea").value.trim();
    var movedOn = parent.value !== now && typed;
    if (parent.value !== now && !movedOn) {
      /* Nothing typed: the form follows the room. */
      var question = document.querySelector("#prompt .question");
      askedIs(form, now, question ? question.textContent.replace(/\s+/g, " ").trim() : "");
    }
    form.querySelector(".to-new").value = now;
    var was = !choice.hidden;
    choice.hidden = !movedOn;
    /* While the choice is open, only its two buttons send, each with its question. */
    parent.disabled = !!movedOn;
    form.querySelector(".send").hidden = !!movedOn;
    var status = document.getElementById("announce");
    if (movedOn && !was && status) {
      status.textContent = choice.querySelector("p").textContent.replace(/\s+/g, " ").trim();
    }
  }

  document.addEventListener("input", function (event) {
    var form = composing(event.target);
    if (form && event.target.tagName === "TEXTAREA") {
      remember(form, event.target.value);
      if (form.id === "answer-form") { followTheRoom(); }
    }
  });
  /* One of the two choices: the form now carries the question chosen (also
   * for a send that has to wait for the network). Runs before htmx reads the form. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var chosen = event.submitter;
    if (form.id !== "answer-form" || !chosen || chosen.name !== "parent") { return; }
    var was = chosen.classList.contains("to-new") && document.querySelector("#prompt .question");
    askedIs(form, chosen.value, was ? was.textContent.replace(/\s+/g, " ").trim() : "");
    parentOf(form).disabled = false;
    form.querySelector(".moved-on").hidden = true;
    form.querySelector(".send").hidden = false;
  }, true);
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
    if (form && event.detail.successful) {
      remember(form, "");
      showSent(form.id === "action-form");
    }
  });
  /* What was just sent, and its state, come into view under the form: its
   * list comes first in #mine, newest first (participate.html). */
  function showSent(idea) {
    window.requestAnimationFrame(function () {
      var items = document.querySelectorAll("#mine li[data-cause]");
      var newest = Array.prototype.find.call(items, function (item) {
        return (item.getAttribute("data-cause").charAt(0) === "a") === idea;
      });
      if (newest) { newest.scrollIntoView({ block: "nearest" }); }
    });
  }
  window.addEventListener("online", sendWaiting);
  document.addEventListener("live:hello", sendWaiting);
  /* The live channel (or this phone's own answer) swaps #prompt and #compose. */
  var main = document.querySelector(".phone-main");
  if (main && window.MutationObserver) {
    new MutationObserver(followTheRoom).observe(main, { childList: true });
  }
  restore();
  followTheRoom();

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  /* The broadcast says which causes are on the board or taken off;
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

  /* While voting: the ballot is the same for everyone; this phone's
   * own dots (#mydots, in the answer to its own votes) set its buttons. */
  function showOwnDots() {
    var mine = document.getElementById("mydots");
    var ballot = document.getElementById("ballot");
    if (!mine || !ballot) { return; }
    var dots = {};
    (mine.getAttribute("data-dots") || "").split(" ").forEach(function (pair) {
      var parts = pair.split(":");
      if (parts.length === 2) { dots[parts[0]] = parseInt(parts[1], 10); }
    });
    var left = parseInt(mine.getAttribute("data-left"), 10) || 0;
    var stack = ballot.getAttribute("data-stack") === "1";
    each(ballot.querySelectorAll("[data-cause]"), function (item) {
      var n = dots[item.getAttribute("data-cause")] || 0;
      var give = item.querySelector(".give");
      var take = item.querySelector(".take");
      var shown = item.querySelector(".my-dots");
      if (give) { give.value = String(n + 1); give.disabled = left < 1 || (!stack && n >= 1); }
      if (take) { take.value = String(n - 1); take.disabled = n < 1; }
      if (shown) { shown.textContent = n ? String(n) : ""; }
    });
  }

  /* Everyone's answers travel with each change only to the phones that
   * have them open: opening or closing them tells the stream (live.js). */
  document.addEventListener("toggle", function (event) {
    if (event.target.id !== "everyone-tree") { return; }
    document.dispatchEvent(new CustomEvent("live:follow", {
      detail: event.target.open ? "tree=1" : ""
    }));
  }, true);

  /* After every swap of the live regions (static/js/live.js). */
  document.addEventListener("live:swapped", function () {
    showOwnStates();
    showOwnDots();
  });
})();
