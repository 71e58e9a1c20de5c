import { connectorCallerId } from "../caller.js";
import type { StateStore } from "./store.js";

/** A client the owner approved on the consent page. */
export type ConnectedClient = {
  clientId: string;
  /** The caller id its calls run under (sessions, conversations, logs). */
  callerId: string;
  name: string;
  redirectUris: string[];
  /** How the client made itself known: dynamic registration, or a client ID metadata document (its URL is its id). */
  via: "registration" | "metadata-document";
  firstApprovedAt: Date;
  lastApprovedAt: Date;
  /** Grants that still let it get tokens; 0 once they expired or were revoked. */
  liveGrants: number;
};

type ApprovalRow = {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  via: ConnectedClient["via"];
  first_approved_at: Date;
  last_approved_at: Date;
  live_grants: number;
};

/**
 * The owner's side of the connector: which clients were approved (listed and revoked by
 * `src/cli/connectors.ts`), and the server's own keys, made once and shared by every replica.
 */
export class ConnectorStore {
  constructor(
    private readonly store: StateStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async recordApproval(client: { clientId: string; name: string; redirectUris: string[]; via: ConnectedClient["via"] }): Promise<void> {
    const now = this.now();
    await this.store.use((db) =>
      db.query(
        `insert into oauth_approvals (client_id, client_name, redirect_uris, via, first_approved_at, last_approved_at) values ($1, $2, $3, $4, $5, $5)
         on conflict (client_id) do update set client_name = excluded.client_name, redirect_uris = excluded.redirect_uris, last_approved_at = excluded.last_approved_at`,
        [client.clientId, client.name, JSON.stringify(client.redirectUris), client.via, now],
      ),
    );
  }

  async list(): Promise<ConnectedClient[]> {
    const rows = await this.store.use((db) =>
      db.query<ApprovalRow>(
        `select a.*, (select count(*)::integer from oauth_records r where r.kind = 'Grant' and r.client_id = a.client_id and (r.expires_at is null or r.expires_at > $1)) as live_grants
         from oauth_approvals a order by a.last_approved_at desc`,
        [this.now()],
      ),
    );
    return rows.map((row) => ({
      clientId: row.client_id,
      callerId: connectorCallerId(row.client_id),
      name: row.client_name,
      redirectUris: row.redirect_uris,
      via: row.via,
      firstApprovedAt: new Date(row.first_approved_at),
      lastApprovedAt: new Date(row.last_approved_at),
      liveGrants: row.live_grants,
    }));
  }

  /**
   * Disconnects a client, named by its client id or its caller id: its approval, grants, codes,
   * tokens and registration are deleted at once, so its next request (on any replica) is refused.
   */
  async revoke(clientOrCallerId: string): Promise<{ clientId: string; records: number } | undefined> {
    const match = (await this.list()).find((client) => client.clientId === clientOrCallerId || client.callerId === clientOrCallerId);
    const clientId = match?.clientId ?? clientOrCallerId;
    return this.store.use((db) =>
      db.transaction(async (tx) => {
        const records = await tx.query("delete from oauth_records where client_id = $1 returning kind", [clientId]);
        const approvals = await tx.query("delete from oauth_approvals where client_id = $1 returning client_id", [clientId]);
        return records.length + approvals.length > 0 ? { clientId, records: records.length } : undefined;
      }),
    );
  }

  /** The value of one of the server's keys, made by `make` the first time (the first replica's wins). */
  async key(name: string, make: () => string): Promise<string> {
    return this.store.use(async (db) => {
      const read = async () => (await db.query<{ value: string }>("select value from oauth_keys where name = $1", [name]))[0]?.value;
      const existing = await read();
      if (existing !== undefined) return existing;
      await db.query("insert into oauth_keys (name, value, created_at) values ($1, $2, $3) on conflict (name) do nothing", [name, make(), this.now()]);
      return (await read())!;
    });
  }
}
