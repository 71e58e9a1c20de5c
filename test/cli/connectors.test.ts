import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, initializeAt, OWNER_PASSWORD, STATIC_TOKEN, startConnectorServer } from "../support/oauth.js";
import { freePort } from "../support/ports.js";
import { childEnv, collect, ROOT } from "../support/spawn.js";
import { freshDataDir, removeDataDir } from "../support/state.js";

/** `pnpm connectors …` as a child process (asynchronous: it may ask the server in this process). */
async function connectors(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", import.meta.resolve("tsx"), join(ROOT, "src/cli/connectors.ts"), ...args], {
    cwd: tmpdir(),
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = collect(child);
  const code = await output.exit;
  return { code, stdout: output.stdout(), stderr: output.stderr() };
}

describe("pnpm connectors", () => {
  it("lists and revokes connected apps through the running server, then straight from the store once it stopped", async () => {
    const dataDir = await freshDataDir();
    const port = String(await freePort());
    const env = {
      DATA_DIR: dataDir,
      PORT: port,
      HOST: "127.0.0.1",
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      CONNECTOR_OWNER_PASSWORD: OWNER_PASSWORD,
      MCP_AUTH_TOKEN: STATIC_TOKEN,
    };
    const server = await startConnectorServer(env);
    const kept = await connect(server.base, { metadata: { client_name: "Kept app" } });
    const gone = await connect(server.base, { metadata: { client_name: "Revoked app" } });
    const listed = await connectors(["list"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('"Kept app"');
    expect(listed.stdout).toContain(`client_id=${gone.client.client_id}`);
    const callerId = /^(oauth:[0-9a-f]{16}) {2}"Revoked app"/m.exec(listed.stdout)![1]!;
    const revoked = await connectors(["revoke", callerId], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${gone.client.client_id}`);
    // The running server did it (the embedded store is its alone), and its next check refuses the token.
    expect(server.logs.some((line) => line.connector === "revoked_by_owner" && line.clientId === gone.client.client_id)).toBe(true);
    expect((await initializeAt(server.door, gone.tokens.access_token)).status).toBe(401);
    expect((await initializeAt(server.door, kept.tokens.access_token)).status).toBe(200);
    const unknown = await connectors(["revoke", "oauth:0000000000000000"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No connected app has the id");
    await server.shutdown("test over");
    const offline = await connectors(["list"], env);
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('"Kept app"');
    expect(offline.stdout).not.toContain('"Revoked app"');
    removeDataDir(dataDir);
  });

  it("says how to use it, and that the door is off when it is", async () => {
    const usage = await connectors([], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("pnpm connectors revoke ID");
    const off = await connectors(["list"], {});
    expect(off.code).toBe(1);
    expect(off.stderr).toContain("The connector door is off here");
  });
});
