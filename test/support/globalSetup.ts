import { templateDir } from "./state.js";

/** Once per run, before any test: the embedded store's template (PGlite's initdb takes seconds). */
export default async function setup(): Promise<void> {
  await templateDir();
}
