import { describe, expect, it } from "vitest";
import { errorBodyMessage } from "../src/llm/errors.js";
import { cutRedacted, redactText, registerSecrets } from "../src/secrets.js";
import { capOutput } from "../src/tools/output.js";
import { tail } from "../src/tools/progress.js";

const KEY = "sk-test-SECRETKEY-0123456789abcdefghij";
registerSecrets([KEY]);

describe("redaction at every cut", () => {
  it("hides a key whole, and a piece of it left at either edge of a cut", () => {
    expect(redactText(`key=${KEY}!`)).toBe("key=(hidden)!");
    const whole = cutRedacted(`${"a".repeat(290)}${KEY} and more`, 300);
    expect(whole).not.toContain(KEY.slice(0, 6));
    expect(whole).toContain("(hidden)");
    // A text that was itself cut mid-key upstream (a capped body) still shows none of it.
    const cut = cutRedacted(`${"a".repeat(295)}${KEY.slice(0, 20)}`, 300);
    expect(cut).toBe(`${"a".repeat(295)}(hidden)`);
    expect(cutRedacted(`start ${KEY}${"b".repeat(40)}`, 50, "end")).toBe(`t (hidden)${"b".repeat(40)}`);
    expect(cutRedacted(`${KEY.slice(-20)}${"b".repeat(40)}`, 50, "end")).toBe(`(hidden)${"b".repeat(40)}`);
  });

  it("keeps a key out of a provider's cut error body, a progress tail and a cut answer", () => {
    const body = JSON.stringify({ error: { message: `${"x".repeat(280)} Incorrect API key provided: ${KEY}` } });
    expect(errorBodyMessage(body)).not.toMatch(/sk-t|SECRET/);
    expect(tail(`the model wrote ${KEY} then stopped`, 20)).not.toMatch(/SECRET|0123|ghij/);
    expect(capOutput(`${"y".repeat(195)}${KEY}`, 200).text).not.toContain("sk-t");
  });
});
