/**
 * Refuses a Node.js older than the one the server needs, with a message that says how to get it,
 * before any dependency loads: undici 8 (and openai 7, vitest 5) die on Node 20 with errors such as
 * `createZstdDecompress.bind … Cannot read properties of undefined` that name neither Node nor a fix.
 *
 * Imported first by src/index.ts (so `pnpm start`, `pnpm start:stdio` and `node dist/index.js` alike)
 * and scripts/smoke.ts; `pnpm test` runs this file on its own first. It imports nothing and uses only
 * what every Node.js version has.
 */

/** The oldest major version the server runs on; package.json's `engines.node` says the same. */
export const REQUIRED_NODE_MAJOR = 24;

/** What to tell someone on `version` (e.g. "20.20.2"), or undefined when that version is new enough. */
export function nodeVersionProblem(version: string, execPath = "node"): string | undefined {
  const major = Number.parseInt(version.replace(/^v/, ""), 10);
  if (major >= REQUIRED_NODE_MAJOR) return undefined;
  const n = REQUIRED_NODE_MAJOR;
  return [
    `mcp-lab needs Node.js ${n} or newer, but this is Node.js ${version} (${execPath}).`,
    `Install Node.js ${n} in one of these ways, then run the command again:`,
    `  nvm:    nvm install ${n} && nvm use ${n}`,
    `  fnm:    fnm install ${n} && fnm use ${n}`,
    `  Volta:  volta install node@${n}`,
    `  npm:    npm install --prefix ~/.local/node${n} node@${n} pnpm@10`,
    `          export PATH="$HOME/.local/node${n}/node_modules/.bin:$PATH"`,
    `  or the installer from https://nodejs.org/`,
    `\`node --version\` should then print v${n} or later (README.md, "Quick start").`,
  ].join("\n");
}

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
