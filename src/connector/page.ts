import type { ServerResponse } from "node:http";

/**
 * The connector's pages for people: the owner's approval form and the error page. Plain HTML forms
 * (no script), in English or Japanese (Accept-Language, or `?lang=`), every value escaped.
 */
export type Lang = "en" | "ja";

export function pickLang(acceptLanguage: string | undefined, query = ""): Lang {
  const asked = new URLSearchParams(query).get("lang");
  if (asked === "en" || asked === "ja") return asked;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part) => {
      const [tag = "", ...params] = part.trim().toLowerCase().split(";");
      const q = Number(params.find((p) => p.trim().startsWith("q="))?.split("=")[1] ?? 1);
      return { tag, q: Number.isFinite(q) ? q : 0 };
    })
    .filter(({ tag }) => tag.startsWith("ja") || tag.startsWith("en"))
    .sort((a, b) => b.q - a.q);
  return ranked[0]?.tag.startsWith("ja") ? "ja" : "en";
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** A value from outside (a client's name, a URI), cut to a readable length before it is shown. */
export function shown(value: string, max = 200): string {
  return escapeHtml(value.length > max ? `${value.slice(0, max)}…` : value);
}

const TEXT = {
  en: {
    title: (name: string) => `Connect ${name} to mcp-lab?`,
    lead: "An app asks to use this server's models through its connector door. It gets what your static token gets: the tools (ask_llm and the others), as itself, until you revoke it.",
    name: "App name (as the app states it)",
    clientId: "Client ID",
    via: "Known by",
    viaRegistration: "registration just now (anyone can register any name)",
    viaDocument: "its metadata document at the address above",
    redirect: "The answer goes to",
    check:
      "Approve only if you started this connection yourself, just now, and the address the answer goes to belongs to the app you use (claude.ai, chatgpt.com, …).",
    password: "Owner password (CONNECTOR_OWNER_PASSWORD)",
    approve: "Approve",
    deny: "Deny",
    wrongPassword: "That is not the owner password. Try again.",
    locked: (seconds: number) => `Too many wrong passwords from this address. Wait ${seconds} seconds and try again.`,
    other: "日本語",
    errorTitle: "The connection could not go on",
    errorLead: "Start the connection again from your app (claude.ai, Claude Desktop, ChatGPT). If this keeps happening, the server's log says more.",
    expired: "This approval page has expired, or was opened in another browser. Start the connection again from your app.",
    clientUnavailable: "This app's details could not be read again (its metadata document may be gone). Start the connection again from your app.",
    forged: "This form was not sent from this server's own page, so nothing was done. Start the connection again from your app.",
  },
  ja: {
    title: (name: string) => `${name} を mcp-lab に接続しますか？`,
    lead: "アプリがコネクタ用の入口からこのサーバーのモデルを使おうとしています。許可すると、静的トークンと同じもの（ask_llm などのツール）を、そのアプリ自身として、取り消すまで使えます。",
    name: "アプリ名（アプリの自己申告）",
    clientId: "クライアント ID",
    via: "登録方法",
    viaRegistration: "たった今の動的登録（名前は誰でも自由に名乗れます）",
    viaDocument: "上のアドレスにあるメタデータ文書",
    redirect: "応答の送り先",
    check: "この接続をたった今ご自分で始めた場合で、応答の送り先がお使いのアプリ（claude.ai、chatgpt.com など）のものであるときだけ許可してください。",
    password: "オーナーパスワード（CONNECTOR_OWNER_PASSWORD）",
    approve: "許可する",
    deny: "拒否する",
    wrongPassword: "オーナーパスワードが違います。もう一度入力してください。",
    locked: (seconds: number) => `このアドレスからのパスワードの誤りが多すぎます。${seconds} 秒待ってからやり直してください。`,
    other: "English",
    errorTitle: "接続を続けられませんでした",
    errorLead: "アプリ（claude.ai、Claude Desktop、ChatGPT）から接続をやり直してください。繰り返し起きる場合は、サーバーのログに詳細があります。",
    expired: "この承認ページは期限切れか、別のブラウザで開かれました。アプリから接続をやり直してください。",
    clientUnavailable: "このアプリの情報をもう一度読めませんでした（メタデータ文書がなくなった可能性があります）。アプリから接続をやり直してください。",
    forged: "このフォームはこのサーバー自身のページから送られていないため、何もしていません。アプリから接続をやり直してください。",
  },
} as const;

export const text = (lang: Lang) => TEXT[lang];

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.4rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.warn{background:#fff4d6;padding:.6rem .8rem;border-radius:6px}.error{background:#fde2e1;padding:.6rem .8rem;border-radius:6px}
input[type=password]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;margin:.3rem 0 1rem}
button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.6rem}nav{text-align:right;font-size:.9rem}`;

/** Headers for every page: no scripts, no framing, no caching, no Referer to other sites (the page's URL names the request). */
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  // Not no-referrer: with it, a browser sends "Origin: null" on the form post, and the Origin check refuses it.
  "referrer-policy": "same-origin",
};

export function pageHtml(lang: Lang, title: string, body: string, otherLangHref?: string): string {
  const nav = otherLangHref ? `<nav><a href="${escapeHtml(otherLangHref)}" hreflang="${lang === "en" ? "ja" : "en"}">${text(lang).other}</a></nav>` : "";
  return `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${nav}<h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export function sendPage(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...PAGE_HEADERS, ...headers });
  res.end(res.req.method === "HEAD" ? undefined : html);
}

/** The page for a request that cannot go on (expired, forged, refused by the authorization server). */
export function errorHtml(lang: Lang, message: string, details: Record<string, string> = {}): string {
  const t = text(lang);
  const rows = Object.entries(details)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${shown(value, 500)}</dd>`)
    .join("");
  return pageHtml(lang, t.errorTitle, `<p class="error">${shown(message, 500)}</p>${rows ? `<dl>${rows}</dl>` : ""}<p>${t.errorLead}</p>`);
}

export type ApprovalView = {
  lang: Lang;
  clientName: string;
  clientId: string;
  viaDocument: boolean;
  redirectUri: string;
  csrf: string;
  action: string;
  notice?: string;
  otherLangHref: string;
};

export function approvalHtml(view: ApprovalView): string {
  const t = text(view.lang);
  const redirect = (() => {
    try {
      const url = new URL(view.redirectUri);
      return `<strong>${shown(url.host)}</strong> (${shown(view.redirectUri, 300)})`;
    } catch {
      return shown(view.redirectUri, 300);
    }
  })();
  const body = `${view.notice ? `<p class="error" role="alert">${shown(view.notice, 300)}</p>` : ""}
<p>${t.lead}</p>
<dl><dt>${t.name}</dt><dd>${shown(view.clientName, 100)}</dd>
<dt>${t.clientId}</dt><dd><code>${shown(view.clientId, 300)}</code></dd>
<dt>${t.via}</dt><dd>${view.viaDocument ? t.viaDocument : t.viaRegistration}</dd>
<dt>${t.redirect}</dt><dd>${redirect}</dd></dl>
<p class="warn">${t.check}</p>
<form method="post" action="${escapeHtml(view.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<label for="password">${t.password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" autofocus>
<button type="submit" name="decision" value="approve">${t.approve}</button>
<button type="submit" name="decision" value="deny">${t.deny}</button>
</form>`;
  return pageHtml(view.lang, t.title(view.clientName.slice(0, 100)), body, view.otherLangHref);
}
