import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import type { Configuration, JWK } from "oidc-provider";
import { RateLimiter } from "../http/rateLimit.js";
import type { Logger } from "../logger.js";
import type { ConnectorEvent, Metrics } from "../metrics.js";
import { registerSecrets } from "../secrets.js";
import { ConnectorStore } from "../state/connectors.js";
import { OAuthRecords } from "../state/oauthRecords.js";
import type { StateStore } from "../state/store.js";
import { type ConnectorUrls, connectorUrls, createProvider, LIFETIMES, type Lifetimes } from "./provider.js";

export type ConnectorSettings = { publicUrl: string; ownerPassword: string };

export type ConnectorDeps = {
  state: StateStore;
  logger: Logger;
  metrics: Metrics;
  lifetimes?: Lifetimes;
  /** Where client ID metadata documents are fetched from; oidc-provider's SSRF-guarded fetch by default. */
  fetch?: Configuration["fetch"];
};

/** What an access token presented at the door turned out to be. */
export type TokenCheck = { ok: true; clientId: string } | { ok: false; reason: "unknown" | "expired" | "other-resource" };

/** Client ID metadata documents fetched at most this often (the server must not become anyone's fetcher). */
const METADATA_FETCHES_PER_MINUTE = 30;
/** And at most this often for one address, so that one cannot use up everyone's budget. */
const METADATA_FETCHES_PER_ADDRESS_PER_MINUTE = 5;
/** What an opaque token of ours looks like; anything else is refused without a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,256}$/;

type Built = { provider: Provider; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>; formKey: Buffer };

/**
 * The connector door's authorization server and what the front door asks of it. The provider is
 * built on first use, once its keys are read from (or first made in) the state store, so that a
 * server whose connector is never used never opens the store for it, and every replica signs and
 * checks with the same keys. A failure to build is not remembered: the next request tries again.
 */
export class Connector {
  readonly urls: ConnectorUrls;
  readonly records: OAuthRecords;
  readonly approvals: ConnectorStore;
  private building: Promise<Built> | undefined;
  private readonly metadataFetches = new RateLimiter(METADATA_FETCHES_PER_MINUTE);
  private readonly metadataFetchesByAddress = new RateLimiter(METADATA_FETCHES_PER_ADDRESS_PER_MINUTE);

  constructor(
    readonly settings: ConnectorSettings,
    private readonly deps: ConnectorDeps,
  ) {
    registerSecrets([settings.ownerPassword]);
    this.urls = connectorUrls(settings.publicUrl);
    this.records = new OAuthRecords(deps.state);
    this.approvals = new ConnectorStore(deps.state);
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  event(event: ConnectorEvent, fields: Record<string, unknown> = {}): void {
    this.deps.metrics.connectorEvent(event);
    this.deps.logger.info({ connector: event, ...fields }, "connector");
  }

  async provider(): Promise<Provider> {
    return (await this.built()).provider;
  }

  /**
   * Hands a request for `path` (under the issuer's path, /connector/...) to oidc-provider, as sent
   * to PUBLIC_URL: it sees the path below its mount point and reads the mount point from
   * `originalUrl`, as when mounted in Express.
   */
  async handOver(req: IncomingMessage, res: ServerResponse, address: string, path: string): Promise<void> {
    const { handle } = await this.built();
    this.asSentToPublicUrl(req, address);
    const { mountPath } = this.urls;
    if (!path.startsWith(`${mountPath}/`)) throw new Error(`not a path of the authorization server: ${path}`);
    Object.assign(req, { originalUrl: path });
    req.url = path.slice(mountPath.length);
    await handle(req, res);
  }

  /**
   * oidc-provider builds its URLs and cookie settings from the request's Host and protocol: they are
   * set from PUBLIC_URL, whatever the client or a proxy sent (the front door already checked Host).
   */
  asSentToPublicUrl(req: IncomingMessage, address: string): void {
    const publicUrl = new URL(this.settings.publicUrl);
    req.headers.host = publicUrl.host;
    req.headers["x-forwarded-proto"] = publicUrl.protocol.slice(0, -1);
    req.headers["x-forwarded-for"] = address;
    delete req.headers["x-forwarded-host"];
  }

  /** The value the approval form carries for an interaction: only this server can make it. */
  async formToken(uid: string): Promise<string> {
    const { formKey } = await this.built();
    return createHmac("sha256", formKey).update(`approve:${uid}`).digest("base64url");
  }

  async checkFormToken(uid: string, presented: string): Promise<boolean> {
    const expected = Buffer.from(await this.formToken(uid));
    const given = Buffer.from(presented);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** An access token is good at the door if it exists, is unexpired, names this resource and its grant still stands. */
  async checkAccessToken(value: string): Promise<TokenCheck> {
    if (!TOKEN_SHAPE.test(value)) return { ok: false, reason: "unknown" };
    const provider = await this.provider();
    const token = await provider.AccessToken.find(value, { ignoreExpiration: true });
    if (!token || token.isSenderConstrained()) return { ok: false, reason: "unknown" };
    if (token.isExpired) return { ok: false, reason: "expired" };
    const audience = Array.isArray(token.aud) ? token.aud : [token.aud];
    if (audience.length !== 1 || audience[0] !== this.urls.resource) return { ok: false, reason: "other-resource" };
    const grant = token.grantId ? await provider.Grant.find(token.grantId, { ignoreExpiration: true }) : undefined;
    if (!grant || grant.isExpired || !token.clientId || grant.clientId !== token.clientId) return { ok: false, reason: "unknown" };
    return { ok: true, clientId: token.clientId };
  }

  private built(): Promise<Built> {
    this.building ??= this.build().catch((error: unknown) => {
      this.building = undefined;
      throw error;
    });
    return this.building;
  }

  private async build(): Promise<Built> {
    const signing = JSON.parse(await this.approvals.key("signing-jwk", makeSigningKey)) as JWK;
    const cookie = await this.approvals.key("cookie-key", () => randomBytes(32).toString("base64url"));
    const formKey = Buffer.from(await this.approvals.key("form-key", () => randomBytes(32).toString("base64url")), "base64url");
    const provider = await createProvider({
      urls: this.urls,
      records: this.records,
      keys: { signing, cookie },
      lifetimes: this.deps.lifetimes ?? LIFETIMES,
      // The address the front door found (handOver sets it as X-Forwarded-For): its own budget first.
      allowFetch: (address) => this.metadataFetchesByAddress.take(address) === 0 && this.metadataFetches.take("all") === 0,
      fetch: this.deps.fetch,
    });
    this.observe(provider);
    return { provider, handle: provider.callback() as Built["handle"], formKey };
  }

  /** What the authorization server did, as log lines and metric samples (never a token or secret). */
  private observe(provider: Provider): void {
    provider.on("registration_create.success", (_ctx: unknown, client: { clientId: string; clientName?: string }) =>
      this.event("registered", { clientId: client.clientId, clientName: client.clientName?.slice(0, 100) }),
    );
    provider.on("grant.success", (ctx: { oidc: { client?: { clientId: string }; params?: { grant_type?: unknown } } }) =>
      this.event(ctx.oidc.params?.grant_type === "refresh_token" ? "refreshed" : "token_issued", { clientId: ctx.oidc.client?.clientId }),
    );
    provider.on("grant.error", (_ctx: unknown, error: { error?: string; error_description?: string }) =>
      this.event("token_refused", { error: error.error, reason: error.error_description }),
    );
    provider.on("grant.revoked", (_ctx: unknown, grantId: string) => this.event("grant_revoked", { grantId }));
    provider.on("server_error", (_ctx: unknown, error: unknown) => this.deps.logger.error({ err: error }, "the connector's authorization server failed"));
    // Koa's own: an error after the answer was sent (a body cut off at its cap). Logged here, not on the console.
    (provider as unknown as NodeJS.EventEmitter).on("error", (error: unknown) =>
      this.deps.logger.debug({ err: error }, "the connector's authorization server dropped a request"),
    );
  }
}

function makeSigningKey(): string {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return JSON.stringify({ ...privateKey.export({ format: "jwk" }), kid: randomBytes(8).toString("hex"), use: "sig", alg: "RS256" });
}
