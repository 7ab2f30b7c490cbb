// Behaviour of the manual request pages. It is a file because the Content Security Policy
// forbids inline scripts.
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.hasAttribute("data-print")) {
    window.print();
  }
});
