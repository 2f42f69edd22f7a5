// feedd's web view works without this file: it only submits a filter form as soon as one of its
// <select data-autosubmit> changes, instead of waiting for the button.
"use strict";
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.submit();
  }
});
