// The invitations page (templates/sessions/invitations.html): copy a link, or
// hand it to the phone's own share sheet (a messenger). Without this script the
// link is still there to select, and its QR code to scan.
"use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy], [data-share]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy || button.dataset.share);
  if (!field) return;
  if ("share" in button.dataset) {
    try {
      await navigator.share({ url: field.value });
    } catch (error) {
      // Closed without sharing: nothing to do.
    }
    return;
  }
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
  } catch (error) {
    document.execCommand("copy");
  }
  button.textContent = button.dataset.copied;
});
for (const button of document.querySelectorAll("[data-copy]")) button.hidden = false;
if (navigator.share) {
  for (const button of document.querySelectorAll("[data-share]")) button.hidden = false;
}
