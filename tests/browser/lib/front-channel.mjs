// The resident's side of the flow without a browser (not a test file itself): a cookie jar,
// the passkey sign-in through the JSON API with the software authenticator, and the
// authorization front channel (authorize → interaction → consent → complete → the service's
// redirect URI), driven with fetch as a browser would (cookies, Origin on posts, 303s).
import assert from 'node:assert/strict';
import { BASE_URL, http } from './oidc.mjs';

/** A minimal RFC 6265 cookie jar: name, value, path; Max-Age=0 / past Expires delete. */
export class CookieJar {
  #cookies = new Map();

  #defaultPath(url) {
    const path = url.pathname;
    const last = path.lastIndexOf('/');
    return last <= 0 ? '/' : path.slice(0, last);
  }

  store(response, url) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      let path = this.#defaultPath(url);
      let expired = false;
      for (const attribute of attributes) {
        const [k, v = ''] = attribute.split('=');
        const key = k.toLowerCase();
        if (key === 'path' && v.startsWith('/')) path = v;
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const id = `${name}\u0000${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { name, value, path });
    }
  }

  /** The Cookie header for `url` (longest paths first, as browsers send them). */
  header(url) {
    const path = url.pathname;
    const matching = [...this.#cookies.values()].filter(
      (c) => path === c.path || (path.startsWith(c.path) && (c.path.endsWith('/') || path[c.path.length] === '/')),
    );
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  has(name) {
    return [...this.#cookies.values()].some((c) => c.name === name);
  }

  /** The cookies as Playwright's `context.addCookies` takes them, to hand a session to Chromium. */
  forBrowser() {
    const { hostname } = new URL(BASE_URL);
    return [...this.#cookies.values()].map(({ name, value, path }) => ({ name, value, domain: hostname, path }));
  }

  /** fetch with this jar's cookies; posts carry the site's Origin, as a browser's do. */
  async fetch(target, init = {}) {
    const url = new URL(target, BASE_URL + '/');
    const headers = new Headers(init.headers ?? {});
    const cookie = this.header(url);
    if (cookie) headers.set('cookie', cookie);
    if ((init.method ?? 'GET') !== 'GET' && !headers.has('origin')) headers.set('origin', new URL(BASE_URL).origin);
    const response = await http(url, { ...init, headers });
    this.store(response, url);
    return response;
  }
}

// ---- a little HTML reading (the pages are server-rendered; no browser needed) -----------------

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
export function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity) => {
    if (entity[0] === '#') {
      const code = entity[1].toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function attributes(tag) {
  const found = {};
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  const inner = tag.replace(/^<\w+/, '').replace(/\/?>$/, '');
  for (const m of inner.matchAll(re)) found[m[1].toLowerCase()] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  return found;
}

/** The forms of a page: {action, method, inputs: [attributes], buttons: [attributes]}. */
export function forms(html) {
  const found = [];
  for (const m of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)) {
    const open = m[0].match(/^<form\b[^>]*>/i)[0];
    const attrs = attributes(open);
    found.push({
      action: attrs.action ?? '',
      method: (attrs.method ?? 'get').toLowerCase(),
      inputs: [...m[1].matchAll(/<input\b[^>]*>/gi)].map((i) => attributes(i[0])),
      buttons: [...m[1].matchAll(/<button\b[^>]*>/gi)].map((b) => attributes(b[0])),
    });
  }
  return found;
}

/** The hidden inputs of a form (e.g. an anti-forgery token), as [name, value] pairs. */
export function hiddenInputs(form) {
  return form.inputs.filter((i) => i.type === 'hidden' && i.name).map((i) => [i.name, i.value ?? '']);
}

/** The consent form of an interaction page, or undefined. */
export function consentForm(html, interactionId) {
  return forms(html).find(
    (f) => f.method === 'post' && f.action === `/oauth2/interaction/${interactionId}/decision`,
  );
}

// ---- the resident ----------------------------------------------------------------------------

/**
 * A resident with a phone-less, browser-less device: a cookie jar and a software authenticator
 * (tests/browser/lib/soft-authenticator.mjs) holding their passkey.
 */
export class Resident {
  /** A new resident registered for this test alone (see residents.mjs). */
  static async fresh(names) {
    const { newResident } = await import('./residents.mjs');
    const registered = await newResident(names);
    const resident = new Resident(registered.hkid);
    resident.registeredId = registered.id;
    resident.names = registered;
    return resident;
  }

  constructor(hkid) {
    this.hkid = hkid;
    this.jar = new CookieJar();
    this.authenticator = undefined;
  }

  async #postJson(jar, path, body) {
    const res = await jar.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `POST ${path}: status (body ${text.slice(0, 400)})`);
    return JSON.parse(text);
  }

  /**
   * Enrols a passkey with a demo enrolment code, in a jar of its own (so the sign-in that
   * follows is a real passkey sign-in, not the session enrolment leaves behind).
   */
  async enrol() {
    const { SoftAuthenticator } = await import('./soft-authenticator.mjs');
    this.authenticator = new SoftAuthenticator({ origin: new URL(BASE_URL).origin });
    const jar = new CookieJar();
    // A resident of the test's own (registered through the admin API) gets its code there; a
    // demo resident from the demo route.
    const issued = this.registeredId
      ? { code: await (await import('./residents.mjs')).enrolmentCode(this.registeredId) }
      : await this.#postJson(jar, '/app/demo/enrolment-code', { hkid: this.hkid });
    assert.match(issued.code ?? '', /^\d{8}$/, 'an enrolment code');
    const ceremony = await this.#postJson(jar, '/api/identity/v1/enrolment/start', { hkid: this.hkid, code: issued.code });
    const credential = await this.authenticator.create(ceremony.publicKey);
    const done = await this.#postJson(jar, '/api/identity/v1/enrolment/finish', {
      ceremony_id: ceremony.ceremony_id,
      credential,
      name: 'Test authenticator',
    });
    assert.ok(done.resident?.id, 'enrolment answers the resident');
    this.residentId = done.resident.id;
    return done;
  }

  /** Signs in with the passkey (usernameless WebAuthn assertion); sets bauhinia_session. */
  async signIn() {
    assert.ok(this.authenticator, 'enrol() before signIn()');
    const ceremony = await this.#postJson(this.jar, '/api/identity/v1/passkeys/login/start');
    const credential = await this.authenticator.get(ceremony.publicKey);
    const done = await this.#postJson(this.jar, '/api/identity/v1/passkeys/login/finish', {
      ceremony_id: ceremony.ceremony_id,
      credential,
    });
    assert.equal(done.resident?.id, this.residentId, 'the passkey signs in the resident who enrolled it');
    assert.ok(this.jar.has('bauhinia_session'), 'sign-in sets the bauhinia_session cookie');
    return done;
  }

  /** Opens the authorization URL: expects 303 to the interaction page and its cookie. */
  async startAuthorization(authorizationUrl) {
    const res = await this.jar.fetch(authorizationUrl);
    const body = await res.text();
    assert.equal(res.status, 303, `GET /oauth2/authorize: 303 (body ${body.slice(0, 300)})`);
    const location = new URL(res.headers.get('location'), BASE_URL + '/');
    const m = location.pathname.match(/^\/oauth2\/interaction\/([^/]+)$/);
    assert.ok(m, `authorize redirects to /oauth2/interaction/{id} (got ${location.href})`);
    assert.ok(
      res.headers.getSetCookie().some((c) => c.startsWith('bauhinia_interaction=')),
      'authorize sets the bauhinia_interaction cookie',
    );
    return m[1];
  }

  /** GET the interaction page; signs in with the passkey first if the page asks for it. */
  async consentPage(id) {
    let res = await this.jar.fetch(`/oauth2/interaction/${id}`);
    let html = await res.text();
    if (res.status === 200 && !consentForm(html, id)) {
      assert.ok(!this.jar.has('bauhinia_session'), `interaction ${id}: no consent form although signed in`);
      this.sawLoginPage = true;
      await this.signIn();
      res = await this.jar.fetch(`/oauth2/interaction/${id}`);
      html = await res.text();
    }
    return { res, html };
  }

  /** POSTs the consent form. Returns the raw response. */
  async decide(id, fields, decision, hidden = []) {
    const body = new URLSearchParams();
    for (const [name, value] of hidden) body.append(name, value);
    for (const f of fields) body.append('field', f);
    body.append('decision', decision);
    return this.jar.fetch(`/oauth2/interaction/${id}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }

  /** `GET /oauth2/interaction/{id}/status` → the status word. */
  async status(id) {
    const res = await this.jar.fetch(`/oauth2/interaction/${id}/status`, { headers: { accept: 'application/json' } });
    const text = await res.text();
    assert.equal(res.status, 200, `interaction status: 200 (body ${text.slice(0, 200)})`);
    return JSON.parse(text).status;
  }

  /**
   * Walks the whole front channel and returns the service's callback URL (with code, state
   * and iss, or error). `uncheck` removes fields from the form's checked ones; `decision` is
   * approve or reject; `business` is the business chosen for a corporate login (by default the
   * one a browser would send: the radio checked already, when there is only one). Returns
   * {callback, id, offered, businesses} (`businesses`: the ids of the businesses offered).
   */
  async authorize(authorizationUrl, { uncheck = [], decision = 'approve', business } = {}) {
    const id = await this.startAuthorization(authorizationUrl);
    const { res, html } = await this.consentPage(id);
    let next;
    let offered = [];
    let businesses = [];
    if (res.status === 303) {
      // An earlier consent covers this request: the page goes straight on.
      next = res;
    } else {
      assert.equal(res.status, 200, `interaction page: 200 (body ${html.slice(0, 300)})`);
      const form = consentForm(html, id);
      assert.ok(form, `interaction ${id}: the consent form posts to /oauth2/interaction/${id}/decision`);
      const decisions = form.buttons.filter((b) => b.name === 'decision').map((b) => b.value);
      assert.deepEqual(decisions.sort(), ['approve', 'reject'], 'the consent form has approve and reject buttons');
      const boxes = form.inputs.filter((i) => i.name === 'field' && i.type === 'checkbox');
      offered = boxes.map((b) => b.value);
      for (const box of boxes) assert.ok('checked' in box, `field ${box.value} is checked by default`);
      const chosen = offered.filter((f) => !uncheck.includes(f));
      const radios = form.inputs.filter((i) => i.name === 'business' && i.type === 'radio');
      businesses = radios.map((r) => r.value);
      const hidden = hiddenInputs(form);
      const pick = business ?? radios.find((r) => 'checked' in r)?.value;
      if (pick !== undefined) hidden.push(['business', pick]);
      next = await this.decide(id, chosen, decision, hidden);
      const text = await next.text();
      assert.equal(next.status, 303, `POST decision: 303 (body ${text.slice(0, 300)})`);
    }
    return { callback: await this.followToService(next, id), id, offered, businesses };
  }

  /** Follows the provider's own 303s (…/complete) until the one that leaves for the service. */
  async followToService(response, id) {
    let res = response;
    for (let hop = 0; hop < 5; hop++) {
      const location = res.headers.get('location');
      assert.ok(location, `interaction ${id}: a redirect with a Location`);
      const url = new URL(location, BASE_URL + '/');
      if (url.origin !== new URL(BASE_URL).origin) return url;
      res = await this.jar.fetch(url);
      await res.text();
      assert.equal(res.status, 303, `GET ${url.pathname}: 303`);
    }
    assert.fail(`interaction ${id}: too many redirects before reaching the service`);
  }
}

/** The code, state and iss of a service callback (asserting there is no error). */
export function callbackParams(callback) {
  const p = callback.searchParams;
  assert.equal(p.get('error'), null, `callback carries no error (got ${p.get('error')}: ${p.get('error_description')})`);
  assert.ok(p.get('code'), 'callback carries a code');
  return { code: p.get('code'), state: p.get('state'), iss: p.get('iss') };
}
