import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_SKIP, hasChromium, launchChromium } from "../support/chromium.js";
import { authorizationUrl, type ConnectorServer, initializeAt, OWNER_PASSWORD, pkce, register, startConnectorServer, tokenRequest } from "../support/oauth.js";

if (!hasChromium()) console.warn(`SKIPPED the consent page in a real browser: ${CHROMIUM_SKIP}`);

/** The client's redirect URI: a server that writes down what the browser brought back. */
async function callbackServer(): Promise<{ url: string; arrived: Promise<URL>; close(): void }> {
  let deliver: (url: URL) => void = () => undefined;
  const arrived = new Promise<URL>((resolve) => (deliver = resolve));
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" }).end("connected");
    deliver(new URL(req.url ?? "/", "http://127.0.0.1"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, arrived, close: () => server.close() };
}

describe.skipIf(!hasChromium())("the consent page in headless Chromium", () => {
  let server: ConnectorServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await startConnectorServer();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.shutdown("test over");
  });

  /** A registered client and an authorization request for it, as a connector would send the owner. */
  async function request(callback: string, name = "Chromium test connector") {
    const client = await register(server.base, { client_name: name, redirect_uris: [callback] });
    const { verifier, challenge } = pkce();
    return {
      client,
      verifier,
      url: authorizationUrl(server.base, {
        client_id: client.client_id,
        redirect_uri: callback,
        code_challenge: challenge,
        code_challenge_method: "S256",
        resource: server.door,
      }),
    };
  }

  it("is filled in and approved by a person's browser with script off, and the code it returns opens the door", async () => {
    const callback = await callbackServer();
    const { client, verifier, url } = await request(callback.url);
    const context = await browser.newContext({ javaScriptEnabled: false, locale: "en-US" });
    const page = await context.newPage();
    await page.goto(url);
    expect(await page.title()).toBe("Connect Chromium test connector to mcp-lab?");
    expect(await page.textContent("body")).toContain(callback.url);
    await page.fill("#password", "a wrong password, typed by mistake");
    await page.click('button[value="approve"]');
    expect(await page.textContent('[role="alert"]')).toContain("That is not the owner password");
    await page.fill("#password", OWNER_PASSWORD);
    await page.click('button[value="approve"]');
    const back = await callback.arrived;
    expect(back.searchParams.get("state")).toBe("state-1");
    const tokens = await tokenRequest(
      server.base,
      { grant_type: "authorization_code", code: back.searchParams.get("code")!, redirect_uri: callback.url, code_verifier: verifier },
      client,
    );
    expect((await initializeAt(server.door, String(tokens.json.access_token))).status).toBe(200);
    await context.close();
    callback.close();
  });

  it("speaks Japanese to a Japanese browser, and denies without the password", async () => {
    const callback = await callbackServer();
    const { url } = await request(callback.url, "日本語のコネクタ");
    const context = await browser.newContext({ locale: "ja-JP" });
    const page = await context.newPage();
    await page.goto(url);
    expect(await page.title()).toBe("日本語のコネクタ を mcp-lab に接続しますか？");
    expect(await page.textContent("button[value=deny]")).toBe("拒否する");
    await page.click('button[value="deny"]');
    expect((await callback.arrived).searchParams.get("error")).toBe("access_denied");
    await context.close();
    callback.close();
  });
});
