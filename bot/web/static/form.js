// A unit's form: each row is saved as it is entered; one that cannot be sent yet is kept and
// sent again (the page's "Lưu" button still posts everything).
(function () {
  "use strict";
  var form = document.getElementById("unit-form");
  if (!form || !window.fetch) return;
  var csrf = form.querySelector("input[name=csrf]").value;
  var waiting = {}; // row code -> true while it still has to be sent

  function send(code) {
    var row = document.getElementById("r-" + code);
    if (!row) return;
    var data = new URLSearchParams();
    data.append("row", code);
    row.querySelectorAll("input[name], textarea[name]").forEach(function (el) {
      if (el.type !== "checkbox" || el.checked) data.append(el.name, el.value);
    });
    waiting[code] = true;
    row.classList.add("sending");
    fetch(form.dataset.row, {
      method: "POST",
      headers: { "X-CSRF-Token": csrf },
      body: data,
      credentials: "same-origin",
    })
      .then(function (answer) {
        if (!answer.ok) throw new Error(String(answer.status));
        return answer.json();
      })
      .then(function (done) {
        delete waiting[code];
        var old = document.getElementById("r-" + code);
        old.insertAdjacentHTML("afterend", done.row);
        old.remove();
        document.getElementById("status").outerHTML = done.status;
      })
      .catch(function () {
        row.classList.remove("sending");
        row.classList.add("unsent");
        var note = row.querySelector(".note");
        note.textContent = "Chưa lưu được (mất kết nối?). Loa sẽ tự thử lại.";
        setTimeout(retry, 5000);
      });
  }

  function retry() {
    Object.keys(waiting).forEach(send);
  }

  form.addEventListener("change", function (event) {
    var row = event.target.closest(".row");
    if (!row) return;
    if (event.target.type !== "checkbox") {
      var pair = row.querySelectorAll("input[name]:not([type=checkbox])");
      // a pair is sent once both halves are in (or both emptied)
      if (pair.length === 2 && !pair[0].value.trim() !== !pair[1].value.trim()) return;
    }
    send(row.dataset.row);
  });
  form.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-money")) {
      var digits = event.target.value.replace(/\D/g, "");
      if (digits && /^[\d.\s]*$/.test(event.target.value)) {
        event.target.value = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ".");
      }
    }
  });
  window.addEventListener("online", retry);
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(waiting).length) event.preventDefault(); // rows not saved yet
  });
})();
