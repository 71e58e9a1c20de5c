// First: refuses an old Node.js before any dependency loads.
import "../nodeCheck.js";
import http from "node:http";
import dotenv from "dotenv";
import { type Config, loadConfig } from "../config.js";
import { OWNER_PATH } from "../connector/owner.js";
import { type ConnectedClient, ConnectorStore } from "../state/connectors.js";
import { StateStore } from "../state/store.js";
import { runCli } from "./run.js";

const USAGE = `Usage (in the image: node dist/cli/connectors.js list):
  pnpm connectors list        the apps connected through the connector door (claude.ai, ChatGPT, ...)
  pnpm connectors revoke ID   disconnects one: ID is its client id, or its caller id (oauth:...)

With the embedded store (no DATABASE_URL), the running server is asked, on this machine, with
CONNECTOR_OWNER_PASSWORD (the store belongs to it); when no server runs, the store is opened.
With DATABASE_URL, the database is used directly: a revocation holds on every replica at once.`;

type Owner = {
  list(): Promise<ConnectedClient[]>;
  revoke(id: string): Promise<{ clientId: string; records: number } | undefined>;
  close(): Promise<void>;
  where: string;
};

async function main(argv: string[]): Promise<number> {
  const [command, id] = argv;
  if (!(command === "list" && id === undefined) && !(command === "revoke" && id)) {
    console.error(USAGE);
    return 2;
  }
  dotenv.config({ quiet: true });
  const config = loadConfig({ ...process.env, MCP_TRANSPORT: "http" });
  if (!config.connector) throw new Error("The connector door is off here: CONNECTOR_OWNER_PASSWORD (and PUBLIC_URL) are not set, so no app can be connected.");
  const owner = config.state.databaseUrl
    ? fromStore(config)
    : await fromServer(config).catch((error: NodeJS.ErrnoException) => (error.code === "ECONNREFUSED" ? fromStore(config) : Promise.reject(error)));
  try {
    if (command === "list") {
      const clients = await owner.list();
      if (clients.length === 0) console.log(`No app is connected (${owner.where}).`);
      for (const client of clients) console.log(describe(client));
      return 0;
    }
    const revoked = await owner.revoke(id!);
    if (!revoked) {
      console.error(`No connected app has the id ${JSON.stringify(id)} (${owner.where}); \`connectors list\` shows them.`);
      return 1;
    }
    console.log(`Revoked ${revoked.clientId}: its grants and tokens are gone (${revoked.records} records); its next request is refused.`);
    return 0;
  } finally {
    await owner.close();
  }
}

function describe(client: ConnectedClient): string {
  const approved = new Date(client.lastApprovedAt).toISOString().slice(0, 16).replace("T", " ");
  return [
    client.callerId,
    JSON.stringify(client.name),
    `client_id=${client.clientId}`,
    `via ${client.via}`,
    `approved ${approved} UTC`,
    `${client.liveGrants} live grant(s)`,
    `redirect ${client.redirectUris.join(" ")}`,
  ].join("  ");
}

function fromStore(config: Config): Owner {
  const store = new StateStore({ ...config.state, onPoolError: () => undefined });
  const approvals = new ConnectorStore(store);
  return { list: () => approvals.list(), revoke: (id) => approvals.revoke(id), close: () => store.close(), where: store.where };
}

/** The running server's owner endpoint, on loopback, as sent to PUBLIC_URL's host (an allowed name). */
async function fromServer(config: Config): Promise<Owner> {
  const connector = config.connector!;
  const host = ["::", "0.0.0.0", "localhost"].includes(config.host) ? "127.0.0.1" : config.host;
  const ask = (method: string, body?: unknown) =>
    new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host,
          port: config.port,
          method,
          path: OWNER_PATH,
          headers: {
            host: new URL(connector.publicUrl).host,
            authorization: `Bearer ${connector.ownerPassword}`,
            ...(payload && { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            try {
              resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown> });
            } catch {
              reject(new Error(`the server on ${host}:${config.port} answered ${res.statusCode} with something other than JSON`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  const where = `the server on ${host}:${config.port}`;
  const failed = (answer: { status: number; json: Record<string, unknown> }) =>
    new Error(`${where} answered ${answer.status}: ${String(answer.json.error ?? "")}`);
  const first = await ask("GET");
  if (first.status !== 200) throw failed(first);
  return {
    where,
    list: async () => first.json.clients as ConnectedClient[],
    revoke: async (id) => {
      const answer = await ask("POST", { revoke: id });
      if (answer.status === 404) return undefined;
      if (answer.status !== 200) throw failed(answer);
      return answer.json.revoked as { clientId: string; records: number };
    },
    close: async () => undefined,
  };
}

runCli("connectors", main);
