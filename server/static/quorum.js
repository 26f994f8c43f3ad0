/* Quorum pages: keyboard shortcuts for labeling, field errors beside their field, word counts, on the
   review page the reason field marked required where the reviewer's grade disagrees with a judge, and in the
   quality lab the audit's correction form, the quality task's seeded answer and the confidence slider.
   No framework; htmx does the requests. Shortcuts act only on the task form in #task. */
(function () {
  "use strict";

  function taskForm() {
    return document.querySelector("#task form#task-form");
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["radio", "checkbox", "button", "submit", "reset", "range"].indexOf(type) === -1;
    }
    return false;
  }

  document.addEventListener("keydown", function (event) {
    var form = taskForm();
    if (!form || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    var target = event.target;
    if (event.key === "Enter") {
      if (target && target.tagName === "TEXTAREA") return;            // a new line, not a submit
      if (target && (target.tagName === "BUTTON" || target.tagName === "A")) return;   // their own action
      event.preventDefault();
      // htmx binds a swapped-in form when it settles (~20 ms later); bind it now, or a quick Enter
      // would submit it natively and reload the page.
      if (window.htmx) htmx.process(form);
      if (form.requestSubmit) form.requestSubmit();
      return;
    }
    if (typing(target)) return;
    if (/^[1-9]$/.test(event.key)) {
      var choice = form.querySelector('[data-shortcut="' + event.key + '"]');
      if (choice) {
        event.preventDefault();
        choice.checked = true;
        choice.dispatchEvent(new Event("change", { bubbles: true }));
        choice.focus({ preventScroll: true });
      }
    } else if (event.key === "s" || event.key === "S") {
      var skip = form.querySelector("#skip");
      if (skip) {
        event.preventDefault();
        if (window.htmx) htmx.process(form);
        skip.click();
      }
    }
  });

  /* Safety net: a task form htmx has not bound yet must never be submitted natively (a page reload). */
  var resubmitting = false;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id !== "task-form" || event.defaultPrevented || !window.htmx) return;
    event.preventDefault();
    if (resubmitting) return;
    resubmitting = true;
    try {
      htmx.process(form);
      htmx.trigger(form, "submit");
    } finally {
      resubmitting = false;
    }
  });

  /* A task type's own template cannot place our error message: move it beside the named field. */
  function placeErrors(root) {
    root.querySelectorAll(".field-error[data-field]").forEach(function (error) {
      var name = error.getAttribute("data-field");
      if (!name) return;
      var scope = error.closest("form") || root;       // a page may hold the same task form more than once
      var field = scope.querySelector('[name="' + CSS.escape(name) + '"]');
      if (!field) return;
      var anchor = field.closest("fieldset") || field.closest("label") || field;
      anchor.insertAdjacentElement("afterend", error);
      error.classList.add("inline");
      var group = field.closest("fieldset") || field;
      group.setAttribute("aria-invalid", "true");
      group.setAttribute("aria-describedby", error.id);
    });
  }

  function countWords(root) {
    root.querySelectorAll("[data-count-for]").forEach(function (counter) {
      var area = document.getElementById(counter.getAttribute("data-count-for"));
      if (!area) return;
      var update = function () {
        var words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
        var max = parseInt(area.getAttribute("data-max-words") || "0", 10);
        var min = parseInt(area.getAttribute("data-min-words") || "0", 10);
        counter.textContent = words + " word" + (words === 1 ? "" : "s") + " now.";
        counter.classList.toggle("over", (max && words > max) || (min && words > 0 && words < min));
      };
      area.addEventListener("input", update);
      update();
    });
  }

  function focusTask(root) {
    var form = root.querySelector && root.querySelector("form#task-form");
    if (form && !form.contains(document.activeElement)) {
      form.setAttribute("tabindex", "-1");
      form.focus({ preventScroll: true });
    }
  }

  /* Review: a grade against a judge's verdict needs a reason (the server says so too; this says it sooner). */
  function markDisagreement(row) {
    var judges = (row.getAttribute("data-judges") || "").split(" ").filter(Boolean);
    var chosen = row.querySelector('input[type="radio"]:checked');
    var reason = row.querySelector(".reason input");
    var disagree = !!chosen && judges.some(function (v) { return v !== chosen.value; });
    row.classList.toggle("disagree", disagree);
    if (reason) {
      reason.required = disagree;
      reason.placeholder = disagree ? "say why you disagree with the judge" : "";
    }
  }

  document.addEventListener("change", function (event) {
    var row = event.target.closest && event.target.closest(".grade-row");
    if (row) markDisagreement(row);
    // Audit: an answer marked incorrect opens its corrected-answer form.
    if (event.target.name === "audit.correct") {
      var details = event.target.form && event.target.form.querySelector("details.correction");
      if (details) details.open = event.target.value === "no";
    }
    if (event.target.hasAttribute && event.target.hasAttribute("data-seed-fieldset")) showSeed(event.target);
  });

  /* Quality task: the seeded answer matters only in the review phase. */
  function showSeed(select) {
    var fieldset = document.getElementById(select.getAttribute("data-seed-fieldset"));
    if (fieldset) fieldset.hidden = select.value !== "review";
  }

  /* Calibration: the confidence slider and its number box move together (only the number is posted). */
  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.hasAttribute && target.hasAttribute("data-mirror")) {
      var box = document.getElementById(target.getAttribute("data-mirror"));
      if (box) box.value = target.value;
    } else if (target.id === "confidence") {
      var slider = target.form && target.form.querySelector('[data-mirror="confidence"]');
      if (slider && target.value !== "") slider.value = target.value;
    }
  });

  function ready(root) {
    placeErrors(root);
    countWords(root);
    focusTask(root);
    if (root.querySelectorAll) {
      root.querySelectorAll(".grade-row").forEach(markDisagreement);
      root.querySelectorAll("[data-seed-fieldset]").forEach(showSeed);
    }
  }

  if (window.htmx) {
    htmx.onLoad(ready);
  } else {
    document.addEventListener("DOMContentLoaded", function () {
      if (window.htmx) htmx.onLoad(ready); else ready(document);
    });
  }
})();
