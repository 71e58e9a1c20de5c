import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RAILWAY_GRAPH_VERSION, type RailwayGraph, type ResourceNode, validateGraph } from "railway/iac";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { ROOT } from "./support/spawn.js";

/**
 * The deployment files, parsed the way their platforms read them where that can run here (no Docker
 * engine, no flyctl, no Railway CLI on this machine): compose as YAML, fly.toml as TOML against the
 * keys Fly documents, .railway/railway.ts evaluated like `railway config plan` evaluates it.
 */

const text = (path: string) => readFileSync(join(ROOT, path), "utf8");

/** Every variable the server reads (.env.example lists each one; test/envExample.test.ts checks that). */
const CONFIG_VARIABLES = text(".env.example")
  .split("\n")
  .filter((line) => /^[A-Z_]+=/.test(line))
  .map((line) => line.slice(0, line.indexOf("=")));

const OLLAMA_IMAGE = /^ollama\/ollama:\d+\.\d+\.\d+$/;

type Compose = {
  name?: string;
  services: Record<string, Record<string, unknown> & { environment?: Record<string, string>; depends_on?: Record<string, Record<string, unknown>> }>;
};

describe("docker-compose.yml", () => {
  const source = text("docker-compose.yml");
  const compose = parseYaml(source) as Compose;
  const server = compose.services["mcp-lab"]!;
  const ollama = compose.services.ollama!;

  it("takes the server's settings from deploy/compose.env, never from the .env that pnpm start reads", () => {
    expect(server.env_file).toBe("deploy/compose.env");
    // Compose reads a .env beside the file for ${...}: only the port binding comes from there.
    const interpolated = [...source.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]);
    expect(new Set(interpolated)).toEqual(new Set(["MCP_LAB_BIND", "MCP_LAB_PORT"]));
    expect(Object.keys(server.environment ?? {}).sort()).toEqual(["HOST", "PORT"]);
  });

  it("reaches the host's Ollama through host.docker.internal on Linux too, and the sidecar only in its profile", () => {
    expect(server.extra_hosts).toContain("host.docker.internal:host-gateway");
    expect(ollama.profiles).toEqual(["sidecar"]);
    expect(server.depends_on?.ollama).toEqual({ condition: "service_healthy", required: false });
    expect(ollama.image).toMatch(OLLAMA_IMAGE);
    expect(server.ports).toEqual(["${MCP_LAB_BIND:-127.0.0.1}:${MCP_LAB_PORT:-8080}:8080"]);
  });

  it("has a committed example whose settings the server knows, and keeps the real file out of git and the image", () => {
    const example = text("deploy/compose.env.example");
    const named = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
    expect(named).toEqual(expect.arrayContaining(["MCP_AUTH_TOKEN", "OLLAMA_BASE_URL"]));
    // POSTGRES_PASSWORD is the postgres profile's own (the database container reads the same file).
    expect(named.filter((name) => !CONFIG_VARIABLES.includes(name) && name !== "POSTGRES_PASSWORD")).toEqual([]);
    expect(execFileSync("git", ["check-ignore", "deploy/compose.env"], { cwd: ROOT, encoding: "utf8" }).trim()).toBe("deploy/compose.env");
    expect(text(".dockerignore")).toMatch(/^deploy$/m);
    // The commands in the file's own header write the file with both required settings.
    for (const url of ["http://host.docker.internal:11434", "http://ollama:11434"]) {
      expect(source).toContain(
        `printf 'MCP_AUTH_TOKEN=%s\\nOLLAMA_BASE_URL=${url}\\nALLOWED_HOSTS=localhost,127.0.0.1\\n' "$MCP_AUTH_TOKEN" > deploy/compose.env`,
      );
    }
  });
});

/**
 * The keys of fly.toml that Fly documents (https://fly.io/docs/reference/configuration/) for what these
 * files use: a nested map, `true` for a leaf. An array of tables is described by its element.
 */
type Keys = { [key: string]: true | Keys };
const CHECK: Keys = {
  grace_period: true,
  interval: true,
  timeout: true,
  method: true,
  path: true,
  protocol: true,
  tls_skip_verify: true,
  tls_server_name: true,
  headers: true,
};
const HTTP_OPTIONS: Keys = { compress: true, response: true, h2_backend: true, idle_timeout: true, headers_read_timeout: true };
const CONCURRENCY: Keys = { type: true, soft_limit: true, hard_limit: true };
const FLY_KEYS: Keys = {
  app: true,
  primary_region: true,
  kill_signal: true,
  kill_timeout: true,
  swap_size_mb: true,
  console_command: true,
  build: { dockerfile: true, image: true, ignorefile: true, build_target: true, args: true },
  deploy: { strategy: true, release_command: true, max_unavailable: true, wait_timeout: true },
  env: true,
  mounts: {
    source: true,
    destination: true,
    initial_size: true,
    snapshot_retention: true,
    scheduled_snapshots: true,
    auto_extend_size_threshold: true,
    auto_extend_size_increment: true,
    auto_extend_size_limit: true,
    processes: true,
  },
  http_service: {
    internal_port: true,
    force_https: true,
    auto_stop_machines: true,
    auto_start_machines: true,
    min_machines_running: true,
    processes: true,
    concurrency: CONCURRENCY,
    tls_options: true,
    http_options: HTTP_OPTIONS,
    checks: CHECK,
  },
  services: {
    protocol: true,
    internal_port: true,
    auto_stop_machines: true,
    auto_start_machines: true,
    min_machines_running: true,
    processes: true,
    ports: {
      port: true,
      start_port: true,
      end_port: true,
      handlers: true,
      force_https: true,
      tls_options: true,
      http_options: HTTP_OPTIONS,
      proxy_proto_options: true,
    },
    concurrency: CONCURRENCY,
    tcp_checks: { grace_period: true, interval: true, timeout: true },
    http_checks: CHECK,
  },
  vm: { size: true, memory: true, cpu_kind: true, cpus: true, memory_mb: true, processes: true },
};

/** Paths of keys in `value` that `keys` does not list. */
function unknownKeys(value: unknown, keys: Keys, path = ""): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.flatMap((item) =>
    Object.entries(item as Record<string, unknown>).flatMap(([key, child]) => {
      const known = keys[key];
      if (!known) return [`${path}${key}`];
      return known === true ? [] : unknownKeys(child, known, `${path}${key}.`);
    }),
  );
}

type FlyConfig = {
  app: string;
  primary_region: string;
  kill_timeout: number;
  build: { image?: string; dockerfile?: string };
  env: Record<string, string>;
  mounts?: { source: string; destination: string };
  vm: Array<{ size: string; memory: string }>;
};

describe("fly.toml and deploy/fly/ollama.fly.toml", () => {
  const server = parseToml(text("fly.toml")) as unknown as FlyConfig;
  const ollamaSource = text("deploy/fly/ollama.fly.toml");
  const ollama = parseToml(ollamaSource) as unknown as FlyConfig;

  it("are TOML with only keys that Fly documents", () => {
    expect(unknownKeys(server, FLY_KEYS)).toEqual([]);
    expect(unknownKeys(ollama, FLY_KEYS)).toEqual([]);
  });

  it("fit together: the server reaches the Ollama app over Flycast, in the same region, and outlasts its drain", () => {
    expect(server.env.OLLAMA_BASE_URL).toBe(`http://${ollama.app}.flycast`);
    expect(server.primary_region).toBe(ollama.primary_region);
    expect(server.env.HOST).toBe("::");
    expect(server.env.ALLOWED_HOSTS).toBe(`${server.app}.fly.dev`);
    expect(server.kill_timeout).toBeGreaterThan(7);
    expect(Object.keys(server.env).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
  });

  it("pin the Ollama image, and create the volume with the Machine's size before the first deploy", () => {
    expect(ollama.build.image).toMatch(OLLAMA_IMAGE);
    const create = ollamaSource.match(/fly volumes create (\S+) -a (\S+) --region (\S+) --size (\d+) --vm-size (\S+) --yes/);
    expect(create?.slice(1)).toEqual([ollama.mounts!.source, ollama.app, ollama.primary_region, "20", ollama.vm[0]!.size]);
    expect(ollamaSource.indexOf("fly volumes create")).toBeLessThan(ollamaSource.indexOf("fly deploy"));
    // The pull goes through Flycast from a one-off Machine of the same image, not `fly ssh console`.
    expect(ollamaSource).toContain(`fly machine run ${ollama.build.image} pull qwen3:4b -a ${ollama.app} --region ${ollama.primary_region} --rm`);
    expect(ollamaSource).toContain(`-e OLLAMA_HOST=http://${ollama.app}.flycast:80`);
  });

  it("are deployed by the README with the same commands, and verified with a timeout longer than a cold /ready", () => {
    const readme = text("README.md");
    const create = ollamaSource.match(/fly volumes create .*--yes/)![0];
    expect(readme).toContain(`$ ${create}`);
    expect(readme.indexOf(create)).toBeLessThan(readme.indexOf("$ fly deploy -c deploy/fly/ollama.fly.toml"));
    expect(readme).toContain(`$ fly machine run ${ollama.build.image} pull qwen3:4b -a ${ollama.app} --region ${ollama.primary_region} --rm`);
    const timeout = Number(readme.match(/pnpm smoke https:\/\/mcp-lab\.fly\.dev .*--timeout (\d+)/)?.[1]);
    expect(timeout).toBeGreaterThan(2 * Number(server.env.READY_TIMEOUT_MS));
  });
});

type Definition = { name: string; resources: ResourceNode[] };

/** .railway/railway.ts evaluated as `railway config plan` does: Node with type stripping, the default export called with a context. */
function evaluateRailway(): Definition {
  const script = `
    import { pathToFileURL } from "node:url";
    const mod = await import(pathToFileURL(process.argv[1]).href);
    const program = mod.default;
    const definition = typeof program === "function" ? await program({}) : program;
    process.stdout.write(JSON.stringify(definition));`;
  const out = execFileSync(
    process.execPath,
    ["--experimental-strip-types", "--disable-warning=ExperimentalWarning", "--input-type=module", "-e", script, "--", join(ROOT, ".railway/railway.ts")],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_PATH: join(ROOT, "node_modules") },
    },
  );
  return JSON.parse(out) as Definition;
}

describe(".railway/railway.ts", () => {
  const definition = evaluateRailway();
  const byName = new Map(definition.resources.map((resource) => [resource.name, resource]));
  const server = byName.get("mcp-lab") as Extract<ResourceNode, { type: "service" }>;
  const ollama = byName.get("ollama") as Extract<ResourceNode, { type: "service" }>;

  it("evaluates to a valid graph: two services and their volumes, each mount pointing at its own", () => {
    expect(definition.name).toBe("mcp-lab");
    expect(definition.resources.map((r) => r.address).sort()).toEqual(["service.mcp-lab", "service.ollama", "volume.mcp-lab-data", "volume.ollama-models"]);
    const edges = definition.resources.flatMap((resource) =>
      resource.type === "service"
        ? Object.values(resource.volumeAttachments ?? {}).map((a) => ({ from: resource.address, to: a.volume, type: "mount" as const, key: a.mountPath }))
        : [],
    );
    expect(edges).toEqual([
      { from: "service.mcp-lab", to: "volume.mcp-lab-data", type: "mount", key: "/data" },
      { from: "service.ollama", to: "volume.ollama-models", type: "mount", key: "/root/.ollama" },
    ]);
    const graph: RailwayGraph = {
      version: RAILWAY_GRAPH_VERSION,
      project: { name: definition.name },
      environments: [],
      resources: definition.resources,
      edges,
    };
    expect(validateGraph(graph)).toEqual([]);
  });

  it("declares every variable the server reads, so `railway config apply` deletes none that were set by hand", () => {
    const variables = server.variables ?? {};
    expect(Object.keys(variables).sort()).toEqual([...CONFIG_VARIABLES].sort());
    const literal = Object.entries(variables)
      .filter(([, v]) => v.type === "literal")
      .map(([name]) => name);
    expect(literal.sort()).toEqual(["ALLOWED_HOSTS", "CLIENT_IP_HEADER", "HOST", "LLM_MODEL", "OLLAMA_BASE_URL"]);
    for (const secret of ["MCP_AUTH_TOKEN", "OPENAI_API_KEY", "METRICS_TOKEN", "OPENAI_BASE_URL", "FALLBACK_MODELS"])
      expect(variables[secret]).toEqual({ type: "preserve" });
    expect(variables.OLLAMA_BASE_URL).toEqual({ type: "literal", value: "http://${{ollama.RAILWAY_PRIVATE_DOMAIN}}:11434" });
  });

  it("builds the server from the Dockerfile like railway.json, and runs the pinned Ollama image with its volume", () => {
    const json = JSON.parse(text("railway.json")) as { build: Record<string, string>; deploy: Record<string, unknown> };
    expect(server.kind).toBe("empty");
    expect(server.build).toEqual(json.build);
    expect(server.deploy).toEqual(json.deploy);
    expect(ollama.source).toEqual({ type: "image", image: expect.stringMatching(OLLAMA_IMAGE) });
    expect(ollama.variables?.OLLAMA_HOST).toEqual({ type: "literal", value: "[::]:11434" });
  });
});

describe("the Ollama image", () => {
  it("is the same release everywhere it is named", () => {
    const files = ["docker-compose.yml", "deploy/fly/ollama.fly.toml", ".railway/railway.ts", "README.md", "README.ja.md"];
    const tags = new Set(files.flatMap((file) => [...text(file).matchAll(/ollama\/ollama:([\w.-]+)/g)].map((m) => m[1])));
    expect([...tags]).toHaveLength(1);
    expect(`ollama/ollama:${[...tags][0]}`).toMatch(OLLAMA_IMAGE);
  });
});
