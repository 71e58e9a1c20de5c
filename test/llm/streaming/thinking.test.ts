import { describe, expect, it } from "vitest";
import { splitThinking } from "../../../src/llm/streaming/thinking.js";

describe("splitThinking", () => {
  it.each([
    ["plain answer", "plain answer", ""],
    ["<think>reason</think>answer", "answer", "reason"],
    ["  <think>\nreason\n</think>\n\nanswer", "answer", "reason"],
    ["reason only closed</think>answer", "answer", "reason only closed"],
    ["<think>cut off while thinking", "", "cut off while thinking"],
    ["<think></think>answer", "answer", ""],
  ])("%j", (text, answer, thinking) => {
    expect(splitThinking(text)).toEqual({ answer, thinking });
  });

  it("does not care where a stream split the tags: it works on the joined text", () => {
    const chunks = ["<th", "ink>a", "b</thi", "nk>an", "swer"];
    expect(splitThinking(chunks.join(""))).toEqual({ answer: "answer", thinking: "ab" });
  });
});
