import net from "node:net";

export type RawResponse = { status: number; head: string; body: string };

/**
 * Sends one request exactly as written (path, method and headers byte for byte, which an HTTP
 * client library would normalise) and reads the answer until the server closes the connection.
 */
export function rawRequest(port: number, method: string, target: string, headers: Record<string, string> = {}, body = ""): Promise<RawResponse> {
  const lines = [`${method} ${target} HTTP/1.1`, ...Object.entries({ host: "127.0.0.1", connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`content-length: ${Buffer.byteLength(body)}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // An SSE stream never ends by itself: its status line is enough.
      if (/^HTTP\/1\.1 200[^\r]*\r\n(?:[^\r]+\r\n)*content-type: text\/event-stream/im.test(Buffer.concat(chunks).toString("latin1"))) socket.destroy();
    });
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: rest.join("\r\n\r\n") });
    });
  });
}
