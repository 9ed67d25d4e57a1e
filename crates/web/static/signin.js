// 智方便 sign-in page: waits for an approval made in the app on another device, then continues.
// (Passkey login on this device is app.js's.) Without script the page's links still work.
"use strict";

function pollInteraction() {
  const root = document.getElementById("signin");
  if (!root) return;
  const id = root.dataset.interaction;
  const tick = async () => {
    try {
      const response = await fetch(`/oauth2/interaction/${id}/status`, { credentials: "same-origin", cache: "no-store" });
      const { status } = await response.json();
      if (status !== "pending") {
        window.location.assign(`/oauth2/interaction/${id}/complete`);
        return;
      }
    } catch (_) {
      // A dropped poll is retried.
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

document.addEventListener("DOMContentLoaded", pollInteraction);
