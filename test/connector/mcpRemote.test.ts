import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INITIALIZE_MESSAGE, McpRemote } from "../support/mcpRemote.js";
import { approve, type ConnectorServer, startConnectorServer } from "../support/oauth.js";
import { freePort } from "../support/ports.js";

describe("mcp-remote's OAuth flow on the connector door, without a desktop browser", () => {
  let server: ConnectorServer;
  beforeAll(async () => {
    server = await startConnectorServer();
  });
  afterAll(() => server.shutdown("test over"));

  it("registers, sends the owner to the approval page, takes the code at its callback, and calls a tool", async () => {
    const callbackPort = await freePort();
    const remote = new McpRemote([server.door, String(callbackPort), "--host", "127.0.0.1"]);
    try {
      remote.send(INITIALIZE_MESSAGE);
      // It prints the URL it would open in a browser; the test is the browser.
      const [, authorizeUrl] = await remote.logged(/authorize this client by visiting:\s*\n(\S+)/);
      expect(authorizeUrl).toContain(`${server.base}/connector/oauth/authorize?`);
      const back = await approve(authorizeUrl!);
      expect(back.origin).toBe(`http://127.0.0.1:${callbackPort}`);
      expect((await fetch(back)).status).toBe(200);
      expect(((await remote.answer(1)).result as { serverInfo: { name: string } }).serverInfo.name).toBe("mcp-lab");
      remote.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      remote.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "add", arguments: { a: 2, b: 3 } } });
      expect(((await remote.answer(2)).result as { content: Array<{ text: string }> }).content[0]!.text).toBe("5");
      const [connected] = await server.services.connector!.approvals.list();
      expect(connected!.name).toBe("MCP CLI Proxy");
    } finally {
      await remote.stop();
    }
  });
});
