import type Provider from "oidc-provider";
import type { Adapter, AdapterPayload, Configuration, JWK, KoaContextWithOIDC } from "oidc-provider";
import type { OAuthRecords } from "../state/oauthRecords.js";
import { errorHtml, pickLang } from "./page.js";

/** The one account: the owner, who approves each client on the consent page. */
export const OWNER = "owner";

/** Scopes of OpenID Connect this server knows; any other scope a client registers is dropped, not refused. */
const OIDC_SCOPES = ["openid", "offline_access"];
const GRANT_TYPES = ["authorization_code", "refresh_token"];

export type ConnectorUrls = {
  /**
   * The authorization server's issuer, under the door's own path: its metadata lives at
   * /.well-known/oauth-authorization-server/connector (RFC 8414), never at a root well-known path,
   * where a static-token client (mcp-remote) would find it and turn to OAuth for /mcp.
   */
  issuer: string;
  /** Where the authorization server's endpoints are served (the issuer's path). */
  mountPath: string;
  /** The protected resource: the connector door. Access tokens are bound to it (RFC 8707). */
  resource: string;
  /** Its metadata (RFC 9728), named in every 401 of the door. */
  resourceMetadata: string;
  /** Where the owner approves a client (the interaction's uid is appended). */
  approvePath: string;
};

export function connectorUrls(publicUrl: string): ConnectorUrls {
  return {
    issuer: `${publicUrl}/connector`,
    mountPath: "/connector",
    resource: `${publicUrl}/connector/mcp`,
    resourceMetadata: `${publicUrl}/.well-known/oauth-protected-resource/connector/mcp`,
    approvePath: "/connector/approve/",
  };
}

export type Lifetimes = { accessTokenS: number; refreshTokenS: number; grantS: number; codeS: number; interactionS: number };

/** Access tokens live an hour; refresh tokens rotate on every use. */
export const LIFETIMES: Lifetimes = { accessTokenS: 3_600, refreshTokenS: 30 * 86_400, grantS: 365 * 86_400, codeS: 60, interactionS: 600 };

export type ProviderParts = {
  urls: ConnectorUrls;
  records: OAuthRecords;
  keys: { signing: JWK; cookie: string };
  lifetimes: Lifetimes;
  /** Before fetching a client ID metadata document: false refuses the client (a rate, say). */
  allowFetch: (address: string) => boolean;
  /** Where client ID metadata documents are fetched from (oidc-provider's guarded fetch by default). */
  fetch?: Configuration["fetch"];
};

/**
 * The embedded authorization server: oidc-provider (OpenID Certified; its own conformance suite
 * covers DCR, PKCE, resource indicators, refresh rotation and revocation), configured for MCP
 * connectors: authorization code with PKCE (S256) only, dynamic registration and client ID
 * metadata documents, one resource (the connector door), opaque access tokens, rotating refresh
 * tokens, and every request approved by the owner on this server's page.
 */
export async function createProvider(parts: ProviderParts): Promise<Provider> {
  // Loaded on first use (about 250 ms and 45 MB): a server whose connector is off, or not yet used, does not pay for it.
  const { default: Provider, errors, interactionPolicy } = await import("oidc-provider");
  const { urls, lifetimes } = parts;
  const provider = new Provider(urls.issuer, {
    adapter: (name: string) => new RecordsAdapter(name, parts.records),
    clients: [],
    clientAuthMethods: ["none", "client_secret_basic", "client_secret_post"],
    // A client that names no method (ChatGPT's metadata document does not) is a public client: PKCE protects it.
    clientDefaults: { grant_types: GRANT_TYPES, response_types: ["code"], token_endpoint_auth_method: "none", id_token_signed_response_alg: "RS256" },
    cookies: { keys: [parts.keys.cookie], long: { httpOnly: true, sameSite: "lax" }, short: { httpOnly: true, sameSite: "lax" } },
    extraClientMetadata: { properties: ["scope", "grant_types"], validator: lenientMetadata },
    // oidc-provider refuses a request that ends with no scope granted; connectors may ask for no
    // scope, or only for scopes of their own. Every request asks for the door's scope, then.
    extraParams: {
      scope: (ctx: KoaContextWithOIDC, value: unknown) => {
        ctx.oidc.params!.scope = withDoorScope(value);
      },
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      registration: { enabled: true, issueRegistrationAccessToken: false },
      // A client revokes only its own tokens (revoking one ends its grant's other tokens too); another's is ignored silently.
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Connectors send `resource`; one that does not gets a token for the only resource there is.
        defaultResource: async () => urls.resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, indicator) => {
          if (!sameResource(indicator, urls.resource)) throw new errors.InvalidTarget(`this server issues tokens only for ${urls.resource}`);
          return { scope: "mcp", audience: urls.resource, accessTokenTTL: lifetimes.accessTokenS, accessTokenFormat: "opaque" };
        },
      },
      clientIdMetadataDocument: { enabled: true, ack: "draft-02", allowFetch: async (ctx: KoaContextWithOIDC) => parts.allowFetch(ctx.ip) },
    },
    ...(parts.fetch && { fetch: parts.fetch }),
    // No client here needs pairwise subjects or its own keys: a sector_identifier_uri is never
    // fetched (a stranger's registration could otherwise make the server download without end),
    // and every document it may fetch is small.
    sectorIdentifierUriValidate: () => false,
    fetchResponseBodyLimits: { "client_id metadata document": 5 * 1024, jwks_uri: 64 * 1024, sector_identifier_uri: 5 * 1024 },
    findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    interactions: { url: async (_ctx, interaction) => `${urls.approvePath}${interaction.uid}`, policy: ownerApprovesEveryRequest(interactionPolicy) },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    expiresWithSession: async () => false,
    jwks: { keys: [parts.keys.signing] },
    pkce: { required: () => true },
    renderError: (ctx, out) => {
      ctx.type = "html";
      const lang = pickLang(ctx.get("accept-language"));
      ctx.body = errorHtml(lang, out.error_description ?? out.error, { error: out.error });
    },
    responseTypes: ["code"],
    rotateRefreshToken: true,
    // Under the issuer's path: /connector/oauth/authorize and so on.
    routes: { authorization: "/oauth/authorize", token: "/oauth/token", registration: "/oauth/register", revocation: "/oauth/revoke", jwks: "/oauth/jwks" },
    scopes: OIDC_SCOPES,
    ttl: {
      AccessToken: lifetimes.accessTokenS,
      AuthorizationCode: lifetimes.codeS,
      RefreshToken: lifetimes.refreshTokenS,
      Grant: lifetimes.grantS,
      Interaction: lifetimes.interactionS,
      Session: lifetimes.interactionS,
      IdToken: lifetimes.accessTokenS,
    },
  });
  // Its URLs come from the Host and protocol the front door sets from PUBLIC_URL (see `handOver`).
  provider.proxy = true;
  return provider;
}

function withDoorScope(value: unknown): string {
  const asked = typeof value === "string" ? value.split(" ").filter(Boolean) : [];
  return [...new Set([...asked, "mcp"])].join(" ");
}

/** A resource indicator names the door if it is the door's URL, give or take one trailing slash. */
function sameResource(indicator: string, resource: string): boolean {
  return indicator === resource || indicator === `${resource}/`;
}

/**
 * Real connectors register scopes and grant types of their own (a product's scope name, say);
 * refusing the registration for them would refuse the connector. Unknown values are dropped.
 */
function lenientMetadata(_ctx: unknown, key: string, value: unknown, metadata: Record<string, unknown>): void {
  if (key === "scope" && typeof value === "string") {
    const known = value.split(" ").filter((scope) => OIDC_SCOPES.includes(scope));
    if (known.length > 0) metadata.scope = known.join(" ");
    else delete metadata.scope;
  }
  if (key === "grant_types" && Array.isArray(value)) {
    const known = value.filter((grant) => GRANT_TYPES.includes(grant as string));
    if (known.length > 0) metadata.grant_types = known;
  }
}

/**
 * The default policy, with one more check first: a request goes on only with the owner's approval
 * from this very interaction. A browser session left from an earlier approval is not enough.
 */
function ownerApprovesEveryRequest({ Check, base }: typeof import("oidc-provider").interactionPolicy) {
  const policy = base();
  policy
    .get("login")!
    .checks.add(
      new Check("owner_approval", "the owner approves every connection on this server's page", (ctx: KoaContextWithOIDC) =>
        ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
      ),
      0,
    );
  return policy;
}

/** oidc-provider's adapter contract, one instance per model, on the state store. */
class RecordsAdapter implements Adapter {
  constructor(
    private readonly kind: string,
    private readonly records: OAuthRecords,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    await this.records.upsert(this.kind, id, payload as Record<string, unknown>, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return (await this.records.find(this.kind, id)) as AdapterPayload | undefined;
  }

  async findByUserCode(): Promise<undefined> {
    return undefined; // the device flow is off
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return (await this.records.findSessionByUid(uid)) as AdapterPayload | undefined;
  }

  async consume(id: string): Promise<void> {
    await this.records.consume(this.kind, id);
  }

  async destroy(id: string): Promise<void> {
    await this.records.destroy(this.kind, id);
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.records.revokeByGrantId(this.kind, grantId);
  }
}
