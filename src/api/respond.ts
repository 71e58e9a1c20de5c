import type { ServerResponse } from "node:http";

/** A whole JSON answer, with its length (no chunked framing for a body known in full). */
export function sendJsonText(res: ServerResponse, status: number, text: string, headers: Record<string, string | undefined> = {}): void {
  const defined = Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined)) as Record<string, string>;
  res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...defined });
  res.end(res.req.method === "HEAD" ? undefined : text);
}
