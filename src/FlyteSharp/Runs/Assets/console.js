// FlyteSharp console: live update of running runs without reloading the page. Shipped with the tool (no CDN),
// served from /static/console.js under a strict CSP (no inline script). While the page says a run is running, it
// fetches the same URL again and swaps the server-rendered (and server-escaped) <main id="live"> in place, keeping
// which actions are expanded; it stops once nothing on the page is running.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live) { return; }
  var updates = 0;
  var delay = 1000;

  function running(main) { return main.getAttribute("data-running") === "true"; }

  function openIds() {
    var ids = [];
    live.querySelectorAll("details[open][data-action-id]").forEach(function (d) { ids.push(d.getAttribute("data-action-id")); });
    return ids;
  }

  function swap(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.getElementById("live");
    if (!fresh) { return false; }
    var open = openIds();
    live.replaceChildren.apply(live, Array.prototype.map.call(fresh.childNodes, function (n) { return document.importNode(n, true); }));
    if (running(fresh)) { live.setAttribute("data-running", "true"); } else { live.removeAttribute("data-running"); }
    open.forEach(function (id) {
      var d = live.querySelector("details[data-action-id='" + CSS.escape(id) + "']");
      if (d) { d.open = true; }
    });
    document.title = doc.title;
    updates += 1;
    document.body.setAttribute("data-live-updates", String(updates));
    return true;
  }

  function poll() {
    fetch(window.location.href, { headers: { "Accept": "text/html" }, cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(new Error("HTTP " + r.status)); })
      .then(function (html) {
        swap(html);
        delay = 1000;
        if (running(live)) { window.setTimeout(poll, delay); }
      })
      .catch(function (e) {
        document.body.setAttribute("data-live-error", String(e));
        delay = Math.min(delay * 2, 15000); // the server may be restarting: back off, keep trying
        window.setTimeout(poll, delay);
      });
  }

  if (running(live)) { window.setTimeout(poll, delay); }
})();
