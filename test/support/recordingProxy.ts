import http from "node:http";
import type { AddressInfo } from "node:net";

export type Seen = { method: string; path: string; status: number; authorization: boolean };

/**
 * A plain HTTP proxy in front of a test server that writes down every request a client makes
 * (method, path, status, whether it carried a token): what a third-party client really asked for.
 * `addHeaders` go on every request (a token, for a client that cannot send one).
 */
export async function recordingProxy(
  targetPort: number,
  addHeaders: Record<string, string> = {},
): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, ...addHeaders, host: `127.0.0.1:${targetPort}` } },
      (answer) => {
        seen.push({ method: req.method ?? "GET", path: req.url ?? "", status: answer.statusCode ?? 0, authorization: req.headers.authorization !== undefined });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
