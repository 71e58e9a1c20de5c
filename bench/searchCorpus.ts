/**
 * A synthetic corpus for the search benchmark, the same on every run (seeded): chunks on a few
 * hundred topics, each with its own words and a vector near its topic's centre, the way real
 * embeddings of related passages cluster. Questions are drawn the same way, so the share of the
 * top five on the question's topic says whether the index still finds the right things.
 */

export const TOPICS = 200;
const TOPIC_WORDS = 30;
const COMMON_WORDS = 300;
const WORDS_PER_CHUNK = 60;
export const CHUNKS_PER_DOCUMENT = 20;
/** How far a chunk's or a question's vector lies from its topic's centre (relative to the centre's length). */
const SPREAD = 0.6;

/** mulberry32: a small, fast, seeded generator. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ["ka", "lo", "mi", "re", "su", "ta", "no", "vi", "de", "ra", "po", "zu", "fe", "gi", "ho", "ne"];

function word(rand: () => number): string {
  return Array.from({ length: 2 + Math.floor(rand() * 3) }, () => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]!).join("");
}

function unit(vector: number[]): number[] {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

export type Corpus = {
  dimensions: number;
  chunk(index: number): { topic: number; heading: string; body: string; embedding: number[] };
  question(index: number): { topic: number; text: string; vector: number[] };
};

export function corpus(dimensions: number, seed = 42): Corpus {
  const rand = random(seed);
  const centres = Array.from({ length: TOPICS }, () => unit(Array.from({ length: dimensions }, () => gaussian(rand))));
  const topicWords = Array.from({ length: TOPICS }, () => Array.from({ length: TOPIC_WORDS }, () => word(rand)));
  const common = Array.from({ length: COMMON_WORDS }, () => word(rand));
  const near = (topic: number, r: () => number) => unit(centres[topic]!.map((value) => value + (SPREAD * gaussian(r)) / Math.sqrt(dimensions)));
  const text = (topic: number, count: number, r: () => number) =>
    Array.from({ length: count }, () => (r() < 0.7 ? topicWords[topic]![Math.floor(r() * TOPIC_WORDS)] : common[Math.floor(r() * COMMON_WORDS)])).join(" ");
  return {
    dimensions,
    chunk(index) {
      const r = random(seed * 7919 + index);
      const topic = Math.floor(r() * TOPICS);
      return { topic, heading: `Part ${index % CHUNKS_PER_DOCUMENT}`, body: `${text(topic, WORDS_PER_CHUNK, r)}.`, embedding: near(topic, r) };
    },
    question(index) {
      const r = random(seed * 104_729 + index);
      const topic = Math.floor(r() * TOPICS);
      return { topic, text: text(topic, 5, r), vector: near(topic, r) };
    },
  };
}
