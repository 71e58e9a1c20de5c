import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashId } from "../../src/state/oauthRecords.js";
import {
  approve,
  authorizationUrl,
  type ConnectorServer,
  connect,
  expireAccessToken,
  FormBrowser,
  initializeAt,
  OWNER_PASSWORD,
  openApproval,
  pkce,
  REDIRECT_URI,
  register,
  STATIC_TOKEN,
  startConnectorServer,
  submitApproval,
  tokenRequest,
} from "../support/oauth.js";

describe("what the connector door and its authorization server refuse", () => {
  let server: ConnectorServer;
  beforeAll(async () => {
    server = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "1000" });
  });
  afterAll(() => server.shutdown("test over"));

  /** A code for a fresh client, approved by the owner, and what it takes to redeem it. */
  async function approvedCode(extra: Record<string, string> = {}) {
    const client = await register(server.base);
    const { verifier, challenge } = pkce();
    const back = await approve(
      authorizationUrl(server.base, {
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        resource: server.door,
        ...extra,
      }),
    );
    return { client, verifier, code: back.searchParams.get("code")! };
  }

  it("refuses an unregistered redirect URI and an unknown client on its own page, never redirecting", async () => {
    const client = await register(server.base);
    const { challenge } = pkce();
    for (const params of [
      { client_id: client.client_id, redirect_uri: "https://attacker.example/callback" },
      { client_id: "no-such-client", redirect_uri: REDIRECT_URI },
    ]) {
      const response = await fetch(authorizationUrl(server.base, { ...params, code_challenge: challenge, code_challenge_method: "S256" }), {
        redirect: "manual",
        headers: { accept: "text/html" },
      });
      expect(response.status).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      expect(await response.text()).toMatch(/redirect_uri|client/);
    }
  });

  it("refuses a code used twice, and takes back the tokens the first use gave", async () => {
    const { client, verifier, code } = await approvedCode();
    const redeem = () => tokenRequest(server.base, { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier }, client);
    const first = await redeem();
    expect(first.status).toBe(200);
    const second = await redeem();
    expect(second.status).toBe(400);
    expect(second.json.error).toBe("invalid_grant");
    expect((await initializeAt(server.door, String(first.json.access_token))).status).toBe(401);
  });

  it("refuses a code without the right PKCE verifier, and a request without S256", async () => {
    const { client, code } = await approvedCode();
    const wrong = await tokenRequest(
      server.base,
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier },
      client,
    );
    expect(wrong.json.error).toBe("invalid_grant");
    for (const params of [{}, { code_challenge: "x".repeat(43), code_challenge_method: "plain" }]) {
      const response = await fetch(authorizationUrl(server.base, { client_id: client.client_id, redirect_uri: REDIRECT_URI, ...params }), {
        redirect: "manual",
      });
      const location = new URL(response.headers.get("location")!);
      expect(location.origin + location.pathname).toBe(REDIRECT_URI);
      expect(location.searchParams.get("error")).toBe("invalid_request");
    }
  });

  it("refuses an expired access token and a revoked one, saying which", async () => {
    const { client, tokens } = await connect(server.base);
    await expireAccessToken(server, tokens.access_token);
    const expired = await initializeAt(server.door, tokens.access_token);
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toBe(
      `Bearer error="invalid_token", error_description="expired", resource_metadata="${server.base}/.well-known/oauth-protected-resource/connector/mcp"`,
    );
    const fresh = await tokenRequest(server.base, { grant_type: "refresh_token", refresh_token: tokens.refresh_token }, client);
    expect((await initializeAt(server.door, String(fresh.json.access_token))).status).toBe(200);
    const revoked = await fetch(`${server.base}/connector/oauth/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: String(fresh.json.access_token), client_id: client.client_id }),
    });
    expect(revoked.status).toBe(200);
    const refused = await initializeAt(server.door, String(fresh.json.access_token));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "The access token is not valid here (unknown, revoked, or its grant was withdrawn)." });
  });

  it("issues tokens for the door only, and refuses a token held for another resource", async () => {
    const client = await register(server.base);
    const { challenge } = pkce();
    const response = await fetch(
      authorizationUrl(server.base, {
        client_id: client.client_id,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        code_challenge_method: "S256",
        resource: "https://other.example/mcp",
      }),
      { redirect: "manual" },
    );
    expect(new URL(response.headers.get("location")!).searchParams.get("error")).toBe("invalid_target");
    const { client: approved, verifier, code } = await approvedCode();
    const elsewhere = await tokenRequest(
      server.base,
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: verifier, resource: "https://other.example/mcp" },
      approved,
    );
    expect(elsewhere.json.error).toBe("invalid_target");
    // A token whose audience is another resource (as another server of ours would issue) is refused at the door.
    const { tokens } = await connect(server.base);
    await server.services.state.use((db) =>
      db.query("update oauth_records set payload = jsonb_set(payload, '{aud}', '\"https://other.example/mcp\"') where kind = 'AccessToken' and id_hash = $1", [
        hashId(tokens.access_token),
      ]),
    );
    const refused = await initializeAt(server.door, tokens.access_token);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({ error: "The access token was issued for another resource, not this connector." });
  });

  it("keeps the doors apart: an access token opens no static route, a static token not the connector", async () => {
    const { tokens } = await connect(server.base);
    const onStatic = await initializeAt(`${server.base}/mcp`, tokens.access_token);
    expect(onStatic.status).toBe(401);
    expect(onStatic.headers.get("www-authenticate")).toBe('Bearer realm="mcp-lab", error="invalid_token"');
    const onDoor = await initializeAt(server.door, STATIC_TOKEN);
    expect(onDoor.status).toBe(401);
    expect(onDoor.headers.get("www-authenticate")).toContain(`resource_metadata="${server.base}/.well-known/oauth-protected-resource/connector/mcp"`);
    expect((await initializeAt(`${server.base}/mcp`, STATIC_TOKEN)).status).toBe(200);
  });

  it("refuses a forged approval: no form value, a wrong one, another site's page, another browser", async () => {
    const client = await register(server.base);
    const { challenge } = pkce();
    const url = authorizationUrl(server.base, {
      client_id: client.client_id,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const browser = new FormBrowser();
    const page = await openApproval(browser, url);
    expect((await submitApproval(browser, page, { password: OWNER_PASSWORD, decision: "approve" })).status).toBe(403);
    expect((await submitApproval(browser, page, { csrf: `${page.csrf.slice(0, -2)}xx`, password: OWNER_PASSWORD, decision: "approve" })).status).toBe(403);
    const crossSite = await browser.post(
      page.action,
      { csrf: page.csrf, password: OWNER_PASSWORD, decision: "approve" },
      { origin: "https://attacker.example" },
    );
    expect(crossSite.status).toBe(403);
    const stranger = await new FormBrowser().post(page.action, { csrf: page.csrf, password: OWNER_PASSWORD, decision: "approve" });
    expect(stranger.status).toBe(400);
    expect(await stranger.text()).toContain("expired, or was opened in another browser");
    // The real form still works afterwards: nothing above used it up.
    const approved = await submitApproval(browser, page, { csrf: page.csrf, password: OWNER_PASSWORD, decision: "approve" });
    expect(approved.location?.searchParams.get("code")).toBeTruthy();
  });

  it("sends the client away with access_denied when the owner denies, without a password", async () => {
    const client = await register(server.base);
    const { challenge } = pkce();
    const browser = new FormBrowser();
    const page = await openApproval(
      browser,
      authorizationUrl(server.base, { client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: "S256" }),
    );
    const denied = await submitApproval(browser, page, { csrf: page.csrf, decision: "deny" });
    expect(denied.location?.searchParams.get("error")).toBe("access_denied");
    expect(denied.location?.searchParams.get("code")).toBeNull();
  });

  it("takes the requests real connectors send: no scope, OpenID only, a scope of their own", async () => {
    for (const scope of [undefined, "openid", "claudeai", "openid offline_access mcp"]) {
      const { tokens } = await connect(server.base, { scope, metadata: { scope: "claudeai openid", token_endpoint_auth_method: "client_secret_post" } });
      expect(tokens.scope.split(" ")).toContain("mcp");
      expect((await initializeAt(server.door, tokens.access_token)).status).toBe(200);
    }
    const withoutResource = await connect(server.base, { resource: null });
    expect((await initializeAt(server.door, withoutResource.tokens.access_token)).status).toBe(200);
  });
});

describe("the owner password", () => {
  let server: ConnectorServer;
  beforeAll(async () => {
    // One wrong password a minute: the lockout below lasts a minute, far longer than the test.
    server = await startConnectorServer({ AUTH_FAILURES_PER_MINUTE: "1" });
  });
  afterAll(() => server.shutdown("test over"));

  it("refuses a wrong one with the form again, then, after too many, even the right one for a while", async () => {
    const client = await register(server.base);
    const { challenge } = pkce();
    const browser = new FormBrowser();
    const page = await openApproval(
      browser,
      authorizationUrl(server.base, { client_id: client.client_id, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: "S256" }),
    );
    const wrong = await submitApproval(browser, page, { csrf: page.csrf, password: "not-the-password", decision: "approve" });
    expect(wrong.status).toBe(401);
    expect(wrong.html).toContain("That is not the owner password");
    expect(wrong.html).not.toContain(OWNER_PASSWORD);
    const locked = await submitApproval(browser, page, { csrf: page.csrf, password: OWNER_PASSWORD, decision: "approve" });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain("Too many wrong passwords");
    const logged = JSON.stringify(server.logs);
    expect(logged).toContain("password_refused");
    expect(logged).not.toContain("not-the-password");
    expect(logged).not.toContain(OWNER_PASSWORD);
  });
});
