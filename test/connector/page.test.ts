import { describe, expect, it } from "vitest";
import { approvalHtml, errorHtml, pickLang } from "../../src/connector/page.js";

describe("the connector's pages", () => {
  it("picks Japanese or English from the query, then Accept-Language by weight", () => {
    expect(pickLang(undefined)).toBe("en");
    expect(pickLang("ja,en;q=0.8")).toBe("ja");
    expect(pickLang("en-US,en;q=0.9,ja;q=0.8")).toBe("en");
    expect(pickLang("fr-FR,ja;q=0.5,en;q=0.3")).toBe("ja");
    expect(pickLang("ja", "lang=en")).toBe("en");
    expect(pickLang("en", "lang=ja")).toBe("ja");
  });

  it("escapes and cuts what a client chose (its name, its redirect URI), and has no script", () => {
    const html = approvalHtml({
      lang: "en",
      clientName: `<script>alert(1)</script>${"n".repeat(500)}`,
      clientId: 'id"><img src=x onerror=alert(1)>',
      viaDocument: false,
      redirectUri: "https://evil.example/cb?<b>",
      csrf: "csrf-value",
      action: "/connector/approve/uid?lang=en",
      otherLangHref: "/connector/approve/uid?lang=ja",
    });
    expect(html).not.toMatch(/<script|<img|onerror=alert\(1\)>/);
    expect(html).toContain("&lt;script&gt;");
    expect(html).not.toContain("n".repeat(150));
    expect(html).toContain("<strong>evil.example</strong>");
    expect(errorHtml("ja", "<bad>")).toContain("&lt;bad&gt;");
  });
});
