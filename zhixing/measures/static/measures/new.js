// The form of a new measure: show the amount only for the kinds of measure that take one
// (freezes and deductions of deposits), also after the kind is changed on the page.
(() => {
  const form = document.querySelector("form[data-amount-kinds]");
  if (!form) {
    return;
  }
  const kind = form.querySelector("select[name='kind']");
  const amount = form.querySelector("[data-field='amount']");
  if (!kind || !amount) {
    return;
  }
  const amountKinds = form.dataset.amountKinds.split(" ").filter(Boolean);
  const update = () => {
    const needsAmount = amountKinds.includes(kind.value);
    amount.hidden = !needsAmount;
    const input = amount.querySelector("input");
    if (input) {
      // A hidden amount is not sent, so the service does not reject it for a kind without one.
      input.disabled = !needsAmount;
    }
  };
  kind.addEventListener("change", update);
  update();
})();
