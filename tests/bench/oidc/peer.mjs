// The peer of the token endpoint benchmark: node-oidc-provider (npm `oidc-provider`) configured
// like Bauhinia's FAPI 2.0 profile — pushed authorization requests required, PKCE S256 required,
// `private_key_jwt` with ES256, ES256 ID tokens with a pairwise `sub`, opaque DPoP-bound access
// tokens, refresh tokens always issued and rotated, userinfo, introspection and revocation.
//
// At start-up it mints --count authorization codes for one client directly through the
// provider's own models (a Grant and an AuthorizationCode each, exactly what its authorization
// endpoint saves after consent), writes them as a fixture in the benchmark's common format
// (see driver.mjs), prints `peer ready at <issuer>` and serves until SIGTERM/SIGINT.
//
// Storage is the provider's own in-memory adapter class (no database, no fsync), given a larger
// capacity: its default holds 1,000 entries, fewer than one round of codes, tokens and replay
// records. Bauhinia commits every exchange to SQLite with fsync'd WAL commits; this peer
// writes nothing to disk.
//
// Usage: node peer.mjs --count N --fixture FILE [--port P] [--host 127.0.0.1]

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '1000' },
    fixture: { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const count = Number.parseInt(args.count, 10);
if (!Number.isInteger(count) || count < 1 || count > 1_000_000) {
  throw new Error(`--count must be 1..1000000, not ${args.count}`);
}
if (!args.fixture) throw new Error('--fixture FILE is required');
if (!['127.0.0.1', '::1', 'localhost'].includes(args.host)) {
  throw new Error('the peer listens on loopback only');
}

// The same lifetimes as Bauhinia (crates/identity/src/oidc/mod.rs).
const CODE_TTL_S = 60;
const ACCESS_TOKEN_TTL_S = 600;
const ID_TOKEN_TTL_S = 600;
const REFRESH_TOKEN_TTL_S = 30 * 24 * 3600;
const CLOCK_SKEW_S = 30;

const CLIENT_ID = 'bench-fapi2-client';
const REDIRECT_URI = 'http://127.0.0.1:9/bench/callback';
const ACCOUNT_ID = 'resident-0001';
// What Bauhinia's fixture asks for (bauhinia identity bench-fixture): the email field.
const SCOPE = 'openid email';

const b64url = (buffer) => Buffer.from(buffer).toString('base64url');

// One listening socket first, so the issuer can carry the port that was actually bound.
let handler = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
const server = createServer((req, res) => handler(req, res));
server.keepAliveTimeout = 30_000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number.parseInt(args.port, 10), args.host, resolve);
});
const { port } = server.address();
const hostForUrl = args.host === '::1' ? '[::1]' : args.host;
const issuer = `http://${hostForUrl}:${port}`;

const signingKey = await jose.generateKeyPair('ES256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(signingKey.privateKey)), alg: 'ES256', use: 'sig' };
signingJwk.kid = await jose.calculateJwkThumbprint(signingJwk);

const clientKey = await jose.generateKeyPair('ES256', { extractable: true });
const clientPrivateJwk = { ...(await jose.exportJWK(clientKey.privateKey)), alg: 'ES256' };
clientPrivateJwk.kid = await jose.calculateJwkThumbprint(clientPrivateJwk);
const { d: _d, ...clientPublicJwk } = clientPrivateJwk;

// Pairwise subject identifiers the way Bauhinia makes them: a keyed hash of client and account.
const pairwiseKey = randomBytes(32);

// Every state change of one round: a grant and a code per exchange, then an access and a refresh
// token, and the replay records of each client assertion and DPoP proof.
const capacity = 16 * count + 10_000;
const storage = new LRU({ maxSize: capacity });

const provider = new Provider(issuer, {
  adapter: (model) => new MemoryAdapter(model, storage, CLOCK_SKEW_S),
  clockTolerance: CLOCK_SKEW_S,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [b64url(randomBytes(32))] },
  clients: [
    {
      client_id: CLIENT_ID,
      client_name: 'FAPI 2.0 benchmark service',
      redirect_uris: [REDIRECT_URI],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      id_token_signed_response_alg: 'ES256',
      subject_type: 'pairwise',
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      jwks: { keys: [clientPublicJwk] },
    },
  ],
  features: {
    devInteractions: { enabled: false },
    fapi: { enabled: true, profile: '2.0' },
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
    dPoP: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  enabledJWA: {
    clientAuthSigningAlgValues: ['ES256', 'PS256'],
    idTokenSigningAlgValues: ['ES256'],
    dPoPSigningAlgValues: ['ES256'],
  },
  responseTypes: ['code'],
  clientAuthMethods: ['private_key_jwt', 'client_secret_basic'],
  acrValues: ['urn:bauhinia:acr:passkey'],
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  // Like Bauhinia's ID token: sub, acr, amr and auth_time always; released fields at userinfo.
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['name', 'birthdate', 'gender'],
    email: ['email', 'email_verified'],
    sid: null,
  },
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: (_ctx, accountId, client) => b64url(
    createHmac('sha256', pairwiseKey).update(`${client.clientId}\u0000${accountId}`).digest(),
  ),
  // Bauhinia issues a refresh token with every code exchange and rotates it on every use.
  issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL_S,
    AuthorizationCode: CODE_TTL_S,
    IdToken: ID_TOKEN_TTL_S,
    RefreshToken: REFRESH_TOKEN_TTL_S,
    Grant: REFRESH_TOKEN_TTL_S,
    Interaction: 600,
    Session: 14 * 24 * 3600,
  },
  findAccount: (_ctx, sub) => (sub === ACCOUNT_ID
    ? {
      accountId: sub,
      claims: async () => ({
        sub,
        name: 'CHAN, Tai Man',
        birthdate: '1980-02-29',
        gender: 'M',
        email: 'chan.taiman@example.hk',
        email_verified: true,
      }),
    }
    : undefined),
});
provider.on('server_error', (_ctx, error) => {
  process.stderr.write(`peer: server_error: ${error?.stack ?? error}\n`);
});

// Mint the codes through the provider's own models, as its authorization endpoint would after
// the resident consents (interactionFinished → Grant.save, then AuthorizationCode.save).
const client = await provider.Client.find(CLIENT_ID);
if (!client) throw new Error('the benchmark client did not load');
const authTime = Math.floor(Date.now() / 1000);
const lines = [];
for (let i = 0; i < count; i += 1) {
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: CLIENT_ID });
  grant.addOIDCScope(SCOPE);
  const grantId = await grant.save();
  const codeVerifier = b64url(randomBytes(32));
  const code = new provider.AuthorizationCode({
    accountId: ACCOUNT_ID,
    grantId,
    client,
    redirectUri: REDIRECT_URI,
    scope: SCOPE,
    codeChallenge: b64url(createHash('sha256').update(codeVerifier).digest()),
    codeChallengeMethod: 'S256',
    nonce: b64url(randomBytes(16)),
    authTime,
    acr: 'urn:bauhinia:acr:passkey',
    amr: ['pop', 'mfa'],
  });
  const value = await code.save();
  lines.push(JSON.stringify({
    issuer,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/me`,
    introspection_endpoint: `${issuer}/token/introspection`,
    client_id: CLIENT_ID,
    client_private_jwk: clientPrivateJwk,
    redirect_uri: REDIRECT_URI,
    code: value,
    code_verifier: codeVerifier,
  }));
}
writeFileSync(args.fixture, `${lines.join('\n')}\n`, { mode: 0o600 });

const callback = provider.callback();
handler = callback;
process.stdout.write(`peer ready at ${issuer} (${count} codes in ${args.fixture}, node ${process.version})\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
