// Step Builder's own script. The Content-Security-Policy allows no inline script or event
// handlers (onsubmit="..."), so templates ask for behaviour with data- attributes instead.

// <form data-confirm="Question?">: ask before submitting; Cancel keeps the user on the page.
// (htmx requests would use hx-confirm instead.)
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
