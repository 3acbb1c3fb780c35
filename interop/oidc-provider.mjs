// A throwaway OpenID Connect provider for the web pages' tests (panva's oidc-provider), on
// loopback only: one confidential client, test accounts from a JSON file, and the
// library's development sign-in pages (any password; the login must name an account).
//
//   node interop/oidc-provider.mjs --port 0 --accounts accounts.json \
//     --client-id ledger-web --client-secret S --redirect-uri http://127.0.0.1:8000/signin/callback
//
// Each option may come from the environment instead: OIDC_PORT, OIDC_ACCOUNTS_FILE,
// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET (better there than on the command line, where `ps`
// shows it) and OIDC_REDIRECT_URIS (separated by spaces). Port 0 takes a free port. The
// accounts file maps each account id (the `sub`) to its extra claims:
//   {"lrn_1": {"ledger_role": "learner", "name": "Ada"}}
// The `ledger` scope releases ledger_role, name and every other claim the file names, in
// the ID token (conformIdTokenClaims: false) and at userinfo; `profile` releases name.
// Prints `ready http://127.0.0.1:PORT` (the issuer) once listening; SIGTERM stops it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const HOST = '127.0.0.1';
// Served on every response: the library's pages @import a web font from the internet,
// which is stripped below; this keeps anything else that would leave the machine out.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; "
  + "script-src 'self' 'unsafe-inline'; img-src 'self' data:";

function fail(message) {
  process.stderr.write(`oidc-provider: ${message}\n`);
  process.exit(2);
}

function options() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      accounts: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const env = process.env;
  const port = Number(values.port ?? env.OIDC_PORT ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0-65535');
  const accountsFile = values.accounts ?? env.OIDC_ACCOUNTS_FILE;
  if (!accountsFile) fail('--accounts FILE (or OIDC_ACCOUNTS_FILE) is required');
  const clientId = values['client-id'] ?? env.OIDC_CLIENT_ID;
  const clientSecret = values['client-secret'] ?? env.OIDC_CLIENT_SECRET;
  if (!clientId || !clientSecret) fail('a client id and a client secret are required');
  const redirectUris = values['redirect-uri']
    ?? (env.OIDC_REDIRECT_URIS ?? '').split(/\s+/).filter(Boolean);
  if (redirectUris.length === 0) fail('at least one --redirect-uri is required');
  return { port, accounts: readAccounts(accountsFile), clientId, clientSecret, redirectUris };
}

function readAccounts(file) {
  let accounts;
  try {
    accounts = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read the accounts file ${file}: ${error.message}`);
  }
  const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
  if (!isObject(accounts) || !Object.values(accounts).every(isObject)) {
    fail(`${file}: expected {"<account id>": {<claims>}, …}`);
  }
  return accounts;
}

function configuration({ accounts, clientId, clientSecret, redirectUris }) {
  const extraClaims = new Set(['ledger_role', 'name']);
  for (const claims of Object.values(accounts)) {
    for (const name of Object.keys(claims)) if (name !== 'sub') extraClaims.add(name);
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    responseTypes: ['code'],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'ledger'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['name'],
      ledger: [...extraClaims],
    },
    conformIdTokenClaims: false,
    async findAccount(ctx, id) {
      if (!Object.hasOwn(accounts, id)) return undefined;
      return { accountId: id, claims: async () => ({ ...accounts[id], sub: id }) };
    },
    features: { devInteractions: { enabled: true }, userinfo: { enabled: true } },
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req.iterator({ destroyOnReturn: false })) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function refusedPage(action) {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in refused</title></head>
<body><main>
<h1>Sign-in</h1>
<p role="alert" id="login-error">Unknown login or wrong password.</p>
<form autocomplete="off" action="${action}" method="post">
  <input type="hidden" name="prompt" value="login">
  <label>Login <input required type="text" name="login" autofocus></label>
  <label>Password <input required type="password" name="password"></label>
  <button type="submit">Sign-in</button>
</form>
</main></body>
</html>`;
}

// The development sign-in page takes any login as an account id; a test provider that
// signed in someone who is not in the accounts file would hide a relying party's bugs.
function refuseUnknownLogins(provider, accounts) {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/interaction\/[\w-]+$/.test(ctx.path)) return next();
    let details;
    try {
      details = await provider.interactionDetails(ctx.req, ctx.res);
    } catch {
      return next(); // an expired or unknown interaction: the library's own error page
    }
    if (details.prompt.name !== 'login') return next();
    const login = new URLSearchParams(await readBody(ctx.req)).get('login') ?? '';
    if (!Object.hasOwn(accounts, login)) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = refusedPage(ctx.path);
      return undefined;
    }
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, {
      mergeWithLastSubmission: false,
    });
  };
}

async function offline(ctx, next) {
  await next();
  ctx.set('Content-Security-Policy', CSP);
  if (typeof ctx.body === 'string' && ctx.response.is('html')) {
    ctx.body = ctx.body.replace(/@import url\([^)]*\);?/g, '');
  }
}

function main() {
  const settings = options();
  const server = createServer();
  server.listen(settings.port, HOST, () => {
    const issuer = `http://${HOST}:${server.address().port}`;
    const provider = new Provider(issuer, configuration(settings));
    provider.use(offline);
    provider.use(refuseUnknownLogins(provider, settings.accounts));
    server.on('request', provider.callback());
    process.stdout.write(`ready ${issuer}\n`);
  });
  server.on('error', (error) => fail(`cannot listen on ${HOST}:${settings.port}: ${error.message}`));
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
