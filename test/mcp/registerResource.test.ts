import { describe, expect, it } from "vitest";
import { listResources } from "../../src/mcp/registerResource.js";
import { type ResourceDefinition, ResourceNotFound } from "../../src/tools/resource.js";

const family = (name: string, pages: string[][]): ResourceDefinition => ({
  name,
  title: name,
  description: name,
  uriTemplate: `${name}://{id}`,
  mimeType: "text/plain",
  list: async (_caller, cursor) => {
    const page = cursor === undefined ? 0 : Number(cursor);
    return { resources: pages[page]!.map((id) => ({ uri: `${name}://${id}`, name: id })), ...(page + 1 < pages.length && { nextCursor: String(page + 1) }) };
  },
  read: async () => {
    throw new ResourceNotFound("no such thing");
  },
  complete: async () => [],
});

describe("resources/list over several families", () => {
  it("pages through each family in turn, skipping empty ones, and refuses a cursor it never gave", async () => {
    const list = listResources([family("a", [["a1"], ["a2"]]), family("empty", [[]]), family("c", [["c1"]])]);
    const names: string[] = [];
    let cursor: string | undefined;
    const cursors: Array<string | undefined> = [];
    do {
      const page = await list(cursor);
      names.push(...page.resources.map((r) => r.name));
      cursor = page.nextCursor;
      cursors.push(cursor);
    } while (cursor !== undefined);
    expect(names).toEqual(["a1", "a2", "c1"]);
    expect(cursors).toEqual(["0:1", "1:", undefined]);
    for (const bad of ["7:", "x", ""]) await expect(list(bad)).rejects.toMatchObject({ code: -32602 });
  });
});
