import { describe, expect, it } from "vitest";
import { OwnerPassword } from "../../src/connector/password.js";

describe("the owner password check", () => {
  it("accepts only the password, and after too many wrong ones from an address refuses even it until the window refills", () => {
    let now = 0;
    const password = new OwnerPassword("the-owner-password-123", 3, () => now);
    expect(password.check("10.0.0.1", "the-owner-password-123")).toEqual({ ok: true });
    for (const guess of ["x", "the-owner-password-12", undefined]) expect(password.check("10.0.0.1", guess)).toEqual({ ok: false, wrong: true });
    expect(password.check("10.0.0.1", "the-owner-password-123")).toMatchObject({ ok: false, wrong: false });
    // Another address is not held up by this one.
    expect(password.check("10.0.0.2", "the-owner-password-123")).toEqual({ ok: true });
    now += 20_000; // 3 a minute: one more try after 20 s
    expect(password.check("10.0.0.1", "the-owner-password-123")).toEqual({ ok: true });
  });

  it("limits wrong passwords from all addresses together, so many addresses cannot guess at will", () => {
    const now = 0;
    const password = new OwnerPassword("the-owner-password-123", 2, () => now);
    for (let i = 0; i < 20; i++) expect(password.check(`10.0.1.${i}`, "guess").ok).toBe(false);
    const fresh = password.check("10.0.2.1", "the-owner-password-123");
    expect(fresh).toMatchObject({ ok: false, wrong: false });
    expect((fresh as { waitMs: number }).waitMs).toBeGreaterThan(0);
  });
});
