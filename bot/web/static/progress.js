// A running announcement's sent/total, looked up every second until nothing is waiting.
// The page shows the numbers at load without this script; it only keeps them fresh.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress]");
  if (!box || box.hasAttribute("data-settled")) return;
  var source = box.getAttribute("data-progress");
  var bar = box.querySelector("progress");

  function set(selector, value) {
    var found = box.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) found[i].textContent = String(value);
  }

  function show(data) {
    set('[data-count="sent"]', data.sent);
    set('[data-count="total"]', data.total);
    var counted = box.querySelectorAll("[data-status]");
    for (var i = 0; i < counted.length; i++) {
      var status = counted[i].getAttribute("data-status");
      counted[i].textContent = String(data.counts[status] || 0);
    }
    if (bar) { bar.max = data.total || 1; bar.value = data.sent; }
    var unsettled = box.querySelector("[data-unsettled]");
    var done = box.querySelector("[data-done]");
    if (unsettled) unsettled.hidden = data.settled;
    if (done) done.hidden = !data.settled;
  }

  function look() {
    fetch(source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error(String(answer.status));
        return answer.json();
      })
      .then(function (data) {
        show(data);
        if (!data.settled) setTimeout(look, 1000);
      })
      .catch(function () { setTimeout(look, 5000); }); // signed out or offline: look less often
  }

  setTimeout(look, 1000);
})();
