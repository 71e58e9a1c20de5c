import dotenv from "dotenv";
import { type Config, ConfigError, loadConfig } from "../config.js";
import { passwordOf, redactText, registerSecrets } from "../secrets.js";
import { StateStore } from "../state/store.js";

/**
 * What every command-line tool of the server shares: the configuration from the environment and
 * `.env` (as the server reads it), the state store it names, closed at the end, and an exit code
 * (0 done, 1 failed with a message, 2 bad usage) set without cutting off output written to a pipe.
 */
export function runCli(name: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error(`${name}: ${redactText(error instanceof ConfigError || error instanceof Error ? error.message : String(error))}`);
      process.exitCode = 1;
    },
  );
}

export async function withStore<T>(work: (store: StateStore, config: Config) => Promise<T>): Promise<T> {
  dotenv.config({ quiet: true });
  const config = loadConfig({ ...process.env, MCP_TRANSPORT: "stdio" });
  registerSecrets([config.state.databaseUrl, config.ollama.baseUrl, config.openai.baseUrl].map(passwordOf));
  const store = new StateStore({ ...config.state, onPoolError: () => undefined });
  try {
    return await work(store, config);
  } finally {
    await store.close();
  }
}
