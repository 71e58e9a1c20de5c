import { z } from "zod";
import type { ToolDefinition } from "./tool.js";

const parameters = z.object({
  a: z.number().describe("First addend"),
  b: z.number().describe("Second addend"),
});

/** A tool with no dependencies, for smoke tests of a deployment. */
export const addTool: ToolDefinition<typeof parameters> = {
  name: "add",
  description: "Adds two numbers and returns the sum. Useful to check that the MCP connection works without calling a model.",
  parameters,
  annotations: { title: "Add two numbers", readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  run: async ({ a, b }) => ({ text: String(a + b), structured: { sum: a + b } }),
};
