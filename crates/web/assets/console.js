// Every console page: a form that destroys or ends something (disabling an account, ending a
// conversation) asks first, in the page's language (its data-confirm text).
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (ev) => {
    if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
  });
}
