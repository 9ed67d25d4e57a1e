// The business dashboard's signing form: when a file is chosen, its SHA-256 is computed here,
// in the browser (WebCrypto), and written into the fingerprint field; the document's name is
// the file's name unless one was typed. The file never leaves the device: its input has no
// name, so the form does not send it. Without this script the fingerprint can be pasted.
'use strict';
(() => {
  const file = document.getElementById('sign-file');
  const hash = document.getElementById('sign-hash');
  const name = document.getElementById('sign-name');
  if (!file || !hash || !name || !window.crypto || !window.crypto.subtle) return;
  file.addEventListener('change', async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const digest = await window.crypto.subtle.digest('SHA-256', await chosen.arrayBuffer());
    hash.value = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
    if (!name.value.trim()) name.value = chosen.name;
    file.dataset.hashed = 'true';
  });
})();
