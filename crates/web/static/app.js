// 智方便 app: the WebAuthn (passkey) calls of /app and /app/enrol, against the JSON API under
// /api/identity/v1. The server sends `publicKey` options with binary members in base64url;
// this script decodes them for navigator.credentials and encodes the answer the same way.
// Messages come from the page (data-msg-*), so they follow the portal's language.
'use strict';
(() => {
  const app = document.getElementById('passkey-app');
  if (!app) return;
  const status = document.getElementById('passkey-status');

  const fromB64url = (text) => {
    const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const toB64url = (buffer) => {
    let raw = '';
    for (const byte of new Uint8Array(buffer)) raw += String.fromCharCode(byte);
    return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const decodeIds = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

  const show = (text, isError) => {
    status.textContent = text;
    status.classList.toggle('error', !!isError);
  };

  async function api(path, body) {
    const init = { method: 'POST', credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const answer = response.status === 204 ? {} : await response.json();
    if (!response.ok) {
      const error = new Error(answer.detail || answer.title || String(response.status));
      error.problem = answer;
      throw error;
    }
    return answer;
  }

  async function create(publicKey) {
    publicKey.challenge = fromB64url(publicKey.challenge);
    publicKey.user.id = fromB64url(publicKey.user.id);
    publicKey.excludeCredentials = decodeIds(publicKey.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toB64url(response.attestationObject),
        clientDataJSON: toB64url(response.clientDataJSON),
        transports: response.getTransports ? response.getTransports() : undefined,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  async function get(publicKey) {
    publicKey.challenge = fromB64url(publicKey.challenge);
    publicKey.allowCredentials = decodeIds(publicKey.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toB64url(response.authenticatorData),
        clientDataJSON: toB64url(response.clientDataJSON),
        signature: toB64url(response.signature),
        userHandle: response.userHandle ? toB64url(response.userHandle) : null,
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
  }

  // Runs one ceremony from a form's submit, showing progress and failures.
  function onSubmit(form, ceremony) {
    if (!form) return;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(app.dataset.msgUnsupported, true);
      return;
    }
    form.hidden = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      show(app.dataset.msgWorking, false);
      try {
        await ceremony(new FormData(form));
      } catch (error) {
        // The browser's own refusals (cancelled, timed out) are DOMExceptions.
        const cancelled = error instanceof DOMException;
        show(cancelled ? app.dataset.msgCancelled : `${app.dataset.msgFailed} ${error.message}`, true);
        button.disabled = false;
      }
    });
  }

  onSubmit(document.getElementById('passkey-login'), async () => {
    const started = await api('/api/identity/v1/passkeys/login/start');
    const credential = await get(started.publicKey);
    await api('/api/identity/v1/passkeys/login/finish', { ceremony_id: started.ceremony_id, credential });
    location.assign('/app');
  });

  onSubmit(document.getElementById('enrol-form'), async (data) => {
    const started = await api('/api/identity/v1/enrolment/start', {
      hkid: data.get('hkid'),
      code: data.get('code'),
    });
    const credential = await create(started.publicKey);
    await api('/api/identity/v1/enrolment/finish', {
      ceremony_id: started.ceremony_id,
      credential,
      name: data.get('name'),
    });
    location.assign('/app');
  });

  onSubmit(document.getElementById('add-passkey'), async (data) => {
    const started = await api('/api/identity/v1/me/passkeys/register/start');
    const credential = await create(started.publicKey);
    await api('/api/identity/v1/me/passkeys/register/finish', {
      ceremony_id: started.ceremony_id,
      credential,
      name: data.get('name'),
    });
    location.assign('/app?notice=added');
  });
})();
