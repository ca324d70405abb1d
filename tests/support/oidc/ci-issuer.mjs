// The CI's OIDC issuer of gocred's `sts` tests: npm `oidc-provider` over TLS on 127.0.0.1
// (issuer https://localhost:PORT), issuing what a CI job's ID token is: a JWT signed with the
// issuer's key (RS256, published at /jwks), with `iss`, `sub`, `aud` (the audience asked for)
// and `exp`. The job is a confidential client `ci-job` (secret `ci-job-secret`) with the
// client_credentials grant; `resource=AUDIENCE` picks the `aud`, and the token comes as a JWT
// (the Resource Indicators feature). The test's fake CI runner asks for one per job.
//
// Started by tests/cli/common/ci_identity.rs. Environment:
//   TLS_CERT, TLS_KEY   PEM files of the server certificate (signed by the test's CA)
//   ID_TOKEN_TTL        the token's lifetime in seconds (default 600)
// Prints one JSON line {"issuer": ...} on stdout once it listens, and exits when stdin closes.

import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const ttl = Number(process.env.ID_TOKEN_TTL || '600');

const server = https.createServer({
  cert: fs.readFileSync(process.env.TLS_CERT),
  key: fs.readFileSync(process.env.TLS_KEY),
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `https://localhost:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'ci-job',
      client_secret: 'ci-job-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      getResourceServerInfo: async (ctx, resourceIndicator) => ({
        scope: 'ci',
        audience: resourceIndicator,
        accessTokenTTL: ttl,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  // The job's identity, as CI systems put it in their ID tokens.
  extraTokenClaims: async () => ({
    repository: 'acme/tools',
    ref: 'refs/heads/main',
  }),
});
server.on('request', provider.callback());

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
