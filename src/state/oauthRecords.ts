import { createHash } from "node:crypto";
import type { Queryable } from "./db.js";
import type { StateStore } from "./store.js";

/** What oidc-provider stores for one of its models (a token, a grant, a client...). */
export type OAuthPayload = Record<string, unknown>;

export type OAuthRecordLimits = {
  /** Records of a kind anyone can create (interactions, sessions, other short-lived ones): the oldest go first. */
  maxPerKind: number;
  /** Registered clients the owner has not approved yet: the oldest go first. */
  maxPendingClients: number;
  /** A registered client the owner has not approved within this time is forgotten. */
  pendingClientTtlMs: number;
  /** A used (rotated) refresh token is kept this long to catch its reuse, then forgotten. */
  consumedKeptMs: number;
};

export const OAUTH_RECORD_LIMITS: OAuthRecordLimits = { maxPerKind: 1_000, maxPendingClients: 500, pendingClientTtlMs: 86_400_000, consumedKeptMs: 86_400_000 };

/** Kinds created only after the owner approved a client (bounded by the owner, and by their expiry). */
const OWNER_BOUND = new Set(["Grant", "AuthorizationCode", "AccessToken", "RefreshToken"]);

export const hashId = (id: string) => createHash("sha256").update(id).digest("base64url");

const text = (value: unknown) => (typeof value === "string" && value.length > 0 ? value : null);

/**
 * oidc-provider's storage (its adapter contract) on the state store, so clients, grants, codes and
 * tokens survive restarts and are shared by replicas. Every id is stored as its SHA-256 only: for a
 * code or a token the id is the credential, so a copy of the database holds no usable one. Every
 * kind a stranger can create is capped, and expired, stale and used records are swept.
 */
export class OAuthRecords {
  constructor(
    private readonly store: StateStore,
    private readonly limits: OAuthRecordLimits = OAUTH_RECORD_LIMITS,
    private readonly now: () => Date = () => new Date(),
  ) {
    store.onMaintenance((db, now) => this.sweep(db, now));
  }

  async upsert(kind: string, id: string, payload: OAuthPayload, expiresInS: number | undefined): Promise<void> {
    const { jti: _, ...kept } = payload;
    const now = this.now();
    const params = payload.params as OAuthPayload | undefined;
    const clientId = text(payload.clientId) ?? text(payload.client_id) ?? text(params?.client_id);
    const expiresAt = expiresInS ? new Date(now.getTime() + expiresInS * 1000) : null;
    await this.store.use((db) =>
      db.transaction(async (tx) => {
        await tx.query(
          `insert into oauth_records (kind, id_hash, payload, client_id, grant_id, session_uid, expires_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (kind, id_hash) do update set payload = excluded.payload, client_id = excluded.client_id, grant_id = excluded.grant_id,
             session_uid = excluded.session_uid, expires_at = excluded.expires_at`,
          [kind, hashId(id), JSON.stringify(kept), clientId, text(payload.grantId), kind === "Session" ? text(payload.uid) : null, expiresAt, now],
        );
        await this.cap(tx, kind);
      }),
    );
  }

  /** The payload stored under an id (its own id put back), or undefined. Expiry is the caller's to check. */
  async find(kind: string, id: string): Promise<OAuthPayload | undefined> {
    const rows = await this.store.use((db) =>
      db.query<{ payload: OAuthPayload; consumed_at: Date | null }>("select payload, consumed_at from oauth_records where kind = $1 and id_hash = $2", [
        kind,
        hashId(id),
      ]),
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...row.payload,
      ...(kind !== "Client" && { jti: id }),
      ...(row.consumed_at && { consumed: Math.floor(new Date(row.consumed_at).getTime() / 1000) }),
    };
  }

  /** A session by its fixed uid (only read: its own id, a credential, is not known here). */
  async findSessionByUid(uid: string): Promise<OAuthPayload | undefined> {
    const rows = await this.store.use((db) =>
      db.query<{ payload: OAuthPayload }>("select payload from oauth_records where kind = 'Session' and session_uid = $1 limit 1", [uid]),
    );
    return rows[0]?.payload;
  }

  async consume(kind: string, id: string): Promise<void> {
    await this.store.use((db) =>
      db.query("update oauth_records set consumed_at = $3 where kind = $1 and id_hash = $2 and consumed_at is null", [kind, hashId(id), this.now()]),
    );
  }

  async destroy(kind: string, id: string): Promise<void> {
    await this.store.use((db) => db.query("delete from oauth_records where kind = $1 and id_hash = $2", [kind, hashId(id)]));
  }

  async revokeByGrantId(kind: string, grantId: string): Promise<void> {
    await this.store.use((db) => db.query("delete from oauth_records where kind = $1 and grant_id = $2", [kind, grantId]));
  }

  /** After an insert: the oldest records beyond the cap of a kind that anyone can create. */
  private async cap(tx: Queryable, kind: string): Promise<void> {
    if (OWNER_BOUND.has(kind)) return;
    if (kind === "Client") {
      await tx.query(
        `delete from oauth_records where kind = 'Client' and id_hash in (
           select id_hash from oauth_records where kind = 'Client' and client_id not in (select client_id from oauth_approvals)
           order by created_at desc, id_hash offset $1)`,
        [this.limits.maxPendingClients],
      );
      return;
    }
    await tx.query(
      `delete from oauth_records where kind = $1 and id_hash in (select id_hash from oauth_records where kind = $1 order by created_at desc, id_hash offset $2)`,
      [kind, this.limits.maxPerKind],
    );
  }

  /** Expired records, used refresh tokens past their watch, and clients never approved. */
  private async sweep(db: Queryable, now: Date): Promise<void> {
    await db.query("delete from oauth_records where expires_at <= $1", [now]);
    await db.query("delete from oauth_records where consumed_at <= $1", [new Date(now.getTime() - this.limits.consumedKeptMs)]);
    await db.query("delete from oauth_records where kind = 'Client' and created_at <= $1 and client_id not in (select client_id from oauth_approvals)", [
      new Date(now.getTime() - this.limits.pendingClientTtlMs),
    ]);
  }
}
