// keyhub portal: a little script that only helps. Every page works
// without it: copy buttons, the tenant switcher's auto-submit and the
// scope check as you type are conveniences on top of plain forms.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Copy buttons: copy the secret next to them and say so.
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    var target = document.getElementById(btn.getAttribute("data-copy"));
    if (!target) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var text = target.textContent.trim();
      var done = function () {
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(target); });
      } else {
        select(target);
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for a manual copy */ }
      }
    });
  });
  // A secret selects whole on one click.
  document.querySelectorAll("[data-select]").forEach(function (el) {
    el.addEventListener("click", function () { select(el); });
  });
  // The operator's tenant switcher submits on change; its button stays
  // for keyboards and for pages without this script.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
  // Scope fields: check each scope's form as it is typed, as the server
  // will (segments of letters, digits, _ - . separated by ':', or '*').
  var seg = /^(\*|[A-Za-z0-9_.\-]+)$/;
  document.querySelectorAll("input[data-scopes]").forEach(function (input) {
    var out = document.getElementById(input.id + "-check");
    var chips = document.getElementById(input.id + "-chips");
    var check = function () {
      var bad = [];
      var list = input.value.split(/[\s,]+/).filter(Boolean);
      list.forEach(function (s) {
        var parts = s.split(":");
        if (s.length > 128 || parts.length > 8 || !parts.every(function (p) { return seg.test(p); })) bad.push(s);
      });
      if (out) out.textContent = bad.length ? "Not a scope: " + bad.join(", ") : "";
      input.setAttribute("aria-invalid", bad.length ? "true" : "false");
      if (chips) {
        chips.textContent = "";
        list.forEach(function (s) {
          var li = document.createElement("li");
          li.className = "chip";
          li.textContent = s;
          chips.appendChild(li);
        });
      }
    };
    input.addEventListener("input", check);
    check();
  });
});

function select(el) {
  var range = document.createRange();
  range.selectNodeContents(el);
  var sel = window.getSelection();
  sel.removeAllRanges();
  sel.addRange(range);
}
