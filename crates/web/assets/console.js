// Every console page: a form that destroys or ends something (disabling an account, ending a
// conversation) asks first, in the page's language (its data-confirm text).
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (ev) => {
    if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
}

// A form shown again with its mistake: the message takes the focus, so it is read first and
// the counsellor lands on the form (the field in question is marked aria-invalid).
const mistake = document.querySelector("form .alert[role=alert][tabindex='-1']");
if (mistake) {
  mistake.scrollIntoView({ block: "center" });
  mistake.focus();
}
