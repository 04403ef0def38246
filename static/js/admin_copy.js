// Admin pages: a button with data-copy="<id of a text input>" copies that input's value to the clipboard (the
// restaurant's calendar feed address, reservations/admin.py), and says so on the button. Where the clipboard is
// refused (a plain-http address other than localhost), the value is left selected for Ctrl+C.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Selected: press Ctrl+C";
  }
});
