import { createRequire } from "node:module";

// src/ under tsx and dist/ when built both sit one level below package.json.
export const version = (createRequire(import.meta.url)("../package.json") as { version: string }).version;
