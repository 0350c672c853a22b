// A real OpenID Connect provider for the single sign-on tests: the OpenID-certified
// oidc-provider with one confidential client that must use PKCE, a few accounts with e-mail,
// personnel-number and groups claims, and a login without pages: the test names the account
// in `login_hint` (or `deny` to refuse), so the whole login is one GET.
//
// Usage: node provider.mjs PORT CONFIG_JSON
//   CONFIG_JSON: {"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris",
//                 "accounts": {"<sub>": {claims...}}}
// Prints "READY <issuer>" once it listens; stops on SIGTERM.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const settings = JSON.parse(process.argv[3]);
const issuer = `http://127.0.0.1:${port}`;

const accounts = settings.accounts;
// Every claim of the test accounts is released with the `profile` scope (custom claims are
// dropped unless a scope lists them).
const customClaims = new Set();
for (const claims of Object.values(accounts)) {
  for (const name of Object.keys(claims)) customClaims.add(name);
}
for (const name of ['sub', 'email', 'email_verified']) customClaims.delete(name);

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: settings.client_id,
      client_secret: settings.client_secret,
      redirect_uris: settings.redirect_uris,
      post_logout_redirect_uris: settings.post_logout_redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: [...customClaims],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['test-provider-cookie-key'] },
  async findAccount(ctx, sub) {
    const claims = accounts[sub];
    if (!claims) return undefined;
    return { accountId: sub, async claims() { return { sub, ...claims }; } };
  },
  // No consent page: the city's own provider has granted the app what it asks for.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      accountId: ctx.oidc.session.accountId,
      clientId: ctx.oidc.client.clientId,
    });
    grant.addOIDCScope(ctx.oidc.requestParamScopes ? [...ctx.oidc.requestParamScopes].join(' ') : 'openid');
    await grant.save();
    return grant;
  },
});

// The login "page": /interaction/<uid> logs in the account named by login_hint.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)$/);
  if (!match || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const hint = details.params.login_hint;
  let result;
  if (details.prompt.name !== 'login') {
    ctx.status = 400;
    ctx.body = `unexpected prompt ${details.prompt.name}`;
    return undefined;
  }
  if (hint === 'deny') {
    result = { error: 'access_denied', error_description: 'The person cancelled the login.' };
  } else if (hint && accounts[hint]) {
    result = { login: { accountId: hint } };
  } else {
    ctx.status = 400;
    ctx.body = 'login_hint names no test account';
    return undefined;
  }
  ctx.respond = false;
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  return undefined;
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`READY ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
