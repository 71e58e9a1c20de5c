/** Plain-HTTP MCP messages (no SDK), to keep the client cheap where only the server is measured. */

export const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

const initializeBody = JSON.stringify({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-lab-bench", version: "1.0.0" } },
});

/** POST initialize and read the whole answer; returns the session id (stateful) and the time it took. */
export async function initialize(baseUrl: string): Promise<{ ms: number; sessionId: string | undefined }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/mcp`, { method: "POST", headers: MCP_HEADERS, body: initializeBody });
  const text = await response.text();
  const ms = performance.now() - started;
  if (!response.ok || !text.includes('"protocolVersion"')) throw new Error(`initialize failed: ${response.status} ${text.slice(0, 200)}`);
  return { ms, sessionId: response.headers.get("mcp-session-id") ?? undefined };
}

export async function initialized(baseUrl: string, sessionId: string): Promise<void> {
  const body = JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" });
  const response = await fetch(`${baseUrl}/mcp`, {
    method: "POST",
    headers: { ...MCP_HEADERS, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
    body,
  });
  await response.text();
}

export async function closeSession(baseUrl: string, sessionId: string): Promise<void> {
  const response = await fetch(`${baseUrl}/mcp`, { method: "DELETE", headers: { "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" } });
  await response.text();
}

/** A full session: initialize, then the initialized notification. */
export async function openSession(baseUrl: string): Promise<string> {
  const { sessionId } = await initialize(baseUrl);
  if (!sessionId) throw new Error("no mcp-session-id in the initialize answer");
  await initialized(baseUrl, sessionId);
  return sessionId;
}
