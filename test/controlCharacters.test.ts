import { describe, expect, it } from "vitest";
import { hasControlCharacters, withoutControlCharacters } from "../src/controlCharacters.js";

describe("control characters", () => {
  it("finds NUL and the other control characters, but not tabs, line breaks or other text", () => {
    for (const text of ["a\u0000b", "\u0007", "x\u001b[31m", "del\u007f"]) expect(hasControlCharacters(text), JSON.stringify(text)).toBe(true);
    for (const text of ["", "tab\tand\r\nbreaks", "日本語 · émoji 🎉"]) expect(hasControlCharacters(text), JSON.stringify(text)).toBe(false);
  });

  it("replaces each with a space, and leaves clean text as it is", () => {
    expect(withoutControlCharacters("half\u0000way\u0007!")).toBe("half way !");
    const clean = "line\none";
    expect(withoutControlCharacters(clean)).toBe(clean);
  });
});
