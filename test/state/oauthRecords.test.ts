import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectorCallerId } from "../../src/caller.js";
import { ConnectorStore } from "../../src/state/connectors.js";
import { OAuthRecords } from "../../src/state/oauthRecords.js";
import { StateStore } from "../../src/state/store.js";
import { engines } from "../support/engines.js";

const limits = { maxPerKind: 3, maxPendingClients: 2, pendingClientTtlMs: 60_000, consumedKeptMs: 60_000 };

describe.each(engines())("OAuthRecords and ConnectorStore on $name", (engine) => {
  let state: StateStore;
  let now = new Date("2026-11-27T12:00:00Z");
  const clock = () => now;
  const tick = (ms: number) => (now = new Date(now.getTime() + ms));
  beforeAll(async () => {
    state = new StateStore({ ...(await engine.open()), onPoolError: () => undefined });
  });
  afterAll(async () => {
    await state.close();
    await engine.close();
  });
  const rows = () =>
    state.use((db) =>
      db.query<{ kind: string; id_hash: string; payload: Record<string, unknown>; client_id: string | null }>(
        "select kind, id_hash, payload, client_id from oauth_records order by created_at",
      ),
    );

  it("keeps a token only as the hash of its value, and gives it back whole by that value", async () => {
    const records = new OAuthRecords(state, limits, clock);
    const value = "an-access-token-value-0123456789abcdefghij";
    await records.upsert("AccessToken", value, { jti: value, clientId: "client-1", grantId: "grant-1", exp: 1, aud: "https://x/connector/mcp" }, 3_600);
    expect(JSON.stringify(await rows())).not.toContain(value);
    expect(await records.find("AccessToken", value)).toEqual({ jti: value, clientId: "client-1", grantId: "grant-1", exp: 1, aud: "https://x/connector/mcp" });
    expect(await records.find("AccessToken", `${value}x`)).toBeUndefined();
    expect(await records.find("RefreshToken", value)).toBeUndefined();
    await records.consume("AccessToken", value);
    expect((await records.find("AccessToken", value))?.consumed).toBe(Math.floor(now.getTime() / 1000));
    await records.revokeByGrantId("AccessToken", "grant-1");
    expect(await records.find("AccessToken", value)).toBeUndefined();
  });

  it("caps what a stranger can create: interactions, and clients the owner never approved", async () => {
    const records = new OAuthRecords(state, limits, clock);
    const approvals = new ConnectorStore(state, clock);
    for (let i = 0; i < 5; i++) {
      tick(1_000);
      await records.upsert("Interaction", `interaction-${i}`, { jti: `interaction-${i}`, params: { client_id: "c" } }, 600);
    }
    expect((await rows()).filter((row) => row.kind === "Interaction")).toHaveLength(3);
    expect(await records.find("Interaction", "interaction-4")).toBeDefined();
    expect(await records.find("Interaction", "interaction-0")).toBeUndefined();
    tick(1_000);
    await records.upsert("Client", "approved-client", { client_id: "approved-client", client_name: "Kept" }, undefined);
    await approvals.recordApproval({ clientId: "approved-client", name: "Kept", redirectUris: ["https://a/cb"], via: "registration" });
    for (let i = 0; i < 4; i++) {
      tick(1_000);
      await records.upsert("Client", `pending-${i}`, { client_id: `pending-${i}` }, undefined);
    }
    const clients = (await rows()).filter((row) => row.kind === "Client").map((row) => row.client_id);
    expect(clients.sort()).toEqual(["approved-client", "pending-2", "pending-3"]);
  });

  it("sweeps expired records, used refresh tokens after their watch, and registrations never approved", async () => {
    const records = new OAuthRecords(state, limits, clock);
    await records.upsert("AuthorizationCode", "short-code", { jti: "short-code", clientId: "sweep" }, 60);
    await records.upsert("RefreshToken", "used-refresh", { jti: "used-refresh", clientId: "sweep" }, 86_400);
    await records.consume("RefreshToken", "used-refresh");
    await records.upsert("Client", "never-approved", { client_id: "never-approved" }, undefined);
    tick(61_000);
    await state.maintain(now);
    expect(await records.find("AuthorizationCode", "short-code")).toBeUndefined();
    expect(await records.find("RefreshToken", "used-refresh")).toBeUndefined();
    expect(await records.find("Client", "never-approved")).toBeUndefined();
    expect(await records.find("Client", "approved-client")).toBeDefined();
  });

  it("lists approved clients and revokes one by client id or caller id, with everything it holds", async () => {
    const records = new OAuthRecords(state, limits, clock);
    const approvals = new ConnectorStore(state, clock);
    await records.upsert("Grant", "grant-9", { jti: "grant-9", clientId: "approved-client", exp: 9 }, 86_400);
    await records.upsert("AccessToken", "token-of-9", { jti: "token-of-9", clientId: "approved-client", grantId: "grant-9" }, 3_600);
    const [listed] = (await approvals.list()).filter((client) => client.clientId === "approved-client");
    expect(listed).toMatchObject({
      name: "Kept",
      via: "registration",
      redirectUris: ["https://a/cb"],
      liveGrants: 1,
      callerId: connectorCallerId("approved-client"),
    });
    expect(await approvals.revoke(connectorCallerId("approved-client"))).toEqual({ clientId: "approved-client", records: 3 });
    expect(await records.find("AccessToken", "token-of-9")).toBeUndefined();
    expect((await approvals.list()).map((client) => client.clientId)).not.toContain("approved-client");
    expect(await approvals.revoke("approved-client")).toBeUndefined();
  });

  it("makes each key once, whoever asks first, and gives every later asker the same", async () => {
    const approvals = new ConnectorStore(state, clock);
    let made = 0;
    const make = () => `key-${++made}`;
    const [a, b] = await Promise.all([approvals.key("test-key", make), approvals.key("test-key", make)]);
    expect(a).toBe(b);
    expect(await approvals.key("test-key", make)).toBe(a);
  });
});
