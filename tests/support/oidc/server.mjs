// The real OAuth 2.0 / OpenID Connect server of gocred's integration tests: npm `oidc-provider`
// over TLS on 127.0.0.1 (issuer https://localhost:PORT), with the device flow (RFC 8628),
// refresh tokens and revocation (RFC 7009) switched on, and one public client `gocred-test`.
//
// Started by tests/cli/common/oidc.rs. Environment:
//   TLS_CERT, TLS_KEY        PEM files of the server certificate (signed by the test's CA)
//   ACCESS_TOKEN_TTL         access token lifetime in seconds (short, so refresh is exercised)
// Prints one JSON line {"issuer": ..., "admin": ...} on stdout once it listens, and exits when
// stdin closes (the test dropped it).
//
// The admin listener (plain HTTP, loopback) is the test's window into the server:
//   GET  /stats  counts of token requests by grant type (and how many succeeded), revocations
//   POST /check  body = an access token → "active <account>" or "inactive" (the git server asks)
//   POST /revoke body = a refresh token → its grant is destroyed, as an admin revoking access

import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import Provider from 'oidc-provider';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const ttl = Number(process.env.ACCESS_TOKEN_TTL || '5');

const server = https.createServer({
  cert: fs.readFileSync(process.env.TLS_CERT),
  key: fs.readFileSync(process.env.TLS_KEY),
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `https://localhost:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'gocred-test',
      client_name: 'gocred test',
      token_endpoint_auth_method: 'none',
      grant_types: [DEVICE_GRANT, 'refresh_token'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: true },
  },
  scopes: ['openid', 'offline_access', 'profile'],
  // By default a refresh token comes only with offline_access; gocred's tests want one always.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, preferred_username: sub }),
  }),
  ttl: {
    AccessToken: ttl,
    DeviceCode: 600,
    RefreshToken: 3600,
    Grant: 3600,
    Session: 3600,
    Interaction: 600,
    IdToken: 3600,
  },
  cookies: { keys: ['gocred-test-cookie-key'] },
});

const stats = { grants: {}, ok: {}, errors: {}, revocations: 0 };
const bump = (table, key) => {
  table[key] = (table[key] || 0) + 1;
};
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/token/revocation') stats.revocations += 1;
  await next();
});
provider.on('grant.success', (ctx) => {
  const grant = ctx.oidc.params.grant_type;
  bump(stats.grants, grant);
  bump(stats.ok, grant);
});
provider.on('grant.error', (ctx, err) => {
  const grant = (ctx.oidc && ctx.oidc.params && ctx.oidc.params.grant_type) || 'unknown';
  bump(stats.grants, grant);
  bump(stats.errors, `${grant} ${err.error || err.message}`);
});
server.on('request', provider.callback());

const admin = http.createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats));
    return;
  }
  if (req.method === 'POST' && req.url === '/check') {
    const token = await provider.AccessToken.find(body.trim()).catch(() => undefined);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(token && !token.isExpired ? `active ${token.accountId}` : 'inactive');
    return;
  }
  if (req.method === 'POST' && req.url === '/revoke') {
    // What an admin revoking the user's authorization does: the grant and its tokens are gone.
    const token = await provider.RefreshToken.find(body.trim()).catch(() => undefined);
    if (token) {
      const grant = await provider.Grant.find(token.grantId);
      if (grant) await grant.destroy();
      await token.destroy();
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(token ? 'revoked' : 'unknown');
    return;
  }
  res.writeHead(404);
  res.end();
});
await new Promise((resolve) => admin.listen(0, '127.0.0.1', resolve));

process.stdout.write(
  `${JSON.stringify({ issuer, admin: `http://127.0.0.1:${admin.address().port}` })}\n`,
);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
