import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectorCallerId } from "../../src/caller.js";
import { ConnectorStore } from "../../src/state/connectors.js";
import { engines } from "../support/engines.js";
import { connect, initializeAt, startConnectorServer, tokenRequest } from "../support/oauth.js";
import { OllamaStandIn } from "../support/ollamaStandIn.js";
import { freePort } from "../support/ports.js";

describe.each(engines())("the connector's clients, grants and tokens in the state store ($name)", (engine) => {
  let ollama: OllamaStandIn;
  let store: { dataDir: string; databaseUrl: string | undefined };
  beforeAll(async () => {
    ollama = await new OllamaStandIn().start();
    store = await engine.open();
  });
  afterAll(async () => {
    await ollama.stop();
    await engine.close();
  });

  const env = (port: number, publicPort = port) => ({
    OLLAMA_BASE_URL: ollama.baseUrl,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${publicPort}`,
    ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : { DATA_DIR: store.dataDir }),
  });

  it("survive a restart: the token still opens the door, the refresh token still refreshes", async () => {
    const port = await freePort();
    const first = await startConnectorServer(env(port));
    const { client, tokens } = await connect(first.base);
    await first.shutdown("restart");
    const second = await startConnectorServer(env(port));
    expect((await initializeAt(second.door, tokens.access_token)).status).toBe(200);
    const refreshed = await tokenRequest(second.base, { grant_type: "refresh_token", refresh_token: tokens.refresh_token }, client);
    expect(refreshed.status).toBe(200);
    expect((await initializeAt(second.door, String(refreshed.json.access_token))).status).toBe(200);
    await second.shutdown("test over");
  });

  it.skipIf(engine.name !== "postgres")("are shared by replicas: issued by one, accepted and revoked on the other", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    // Two replicas behind one public name (the load balancer's), on one database.
    const a = await startConnectorServer(env(portA));
    const b = await startConnectorServer(env(portB, portA));
    const { client, tokens } = await connect(a.base);
    expect((await initializeAt(b.door, tokens.access_token)).status).toBe(200);
    const approvals = new ConnectorStore(b.services.state);
    expect((await approvals.list()).map((c) => c.clientId)).toContain(client.client_id);
    expect(await approvals.revoke(connectorCallerId(client.client_id))).toMatchObject({ clientId: client.client_id });
    expect((await initializeAt(a.door, tokens.access_token)).status).toBe(401);
    expect((await tokenRequest(a.base, { grant_type: "refresh_token", refresh_token: tokens.refresh_token }, client)).json.error).toBe("invalid_client");
    await Promise.all([a.shutdown("test over"), b.shutdown("test over")]);
  });
});
