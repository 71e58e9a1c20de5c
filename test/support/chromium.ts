import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium (scripts/install-test-deps.sh installs it). */
export const CHROMIUM = "/usr/bin/chromium";

export const CHROMIUM_SKIP = `Chromium is not installed at ${CHROMIUM}: run scripts/install-test-deps.sh (Debian's chromium) to fill the consent page in a real browser`;

export function hasChromium(): boolean {
  return existsSync(CHROMIUM);
}

/** Headless, with nothing that reaches the network or a profile by itself. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}
