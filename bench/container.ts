import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { ROOT } from "./procs.js";
import { log } from "./stats.js";

export const CONTAINER_CHECK = `${ROOT}../shared/tools/container-check`;

export type ContainerResult =
  | { measured: false; reason: string }
  | { measured: true; imageMiB: number; aboveBaseMiB: number; toHealthyMs: number | undefined; output: string };

const HOW = "run `pnpm bench --container` on a machine with ../shared/tools/container-check (podman), or `docker build` and `docker image inspect` elsewhere";

/**
 * Builds the Dockerfile and starts the image with ../shared/tools/container-check (only with
 * --container: it takes minutes the first time). The image binds `::`, so it needs a token.
 */
export async function runContainer(enabled: boolean): Promise<ContainerResult> {
  if (!enabled) return { measured: false, reason: `not measured in this run (${HOW})` };
  if (!existsSync(CONTAINER_CHECK) || !existsSync(`${ROOT}Dockerfile`))
    return { measured: false, reason: `not measured: no container-check or no Dockerfile here (${HOW})` };
  const token = randomBytes(24).toString("hex");
  const args = ["-e", `MCP_AUTH_TOKEN=${token}`, "-H", `Authorization: Bearer ${token}`];
  log("  container: building the image and starting it (minutes the first time)...");
  const output = await new Promise<string>((resolve) => {
    const child = spawn(CONTAINER_CHECK, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const take = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      process.stderr.write(chunk);
    };
    child.stdout!.on("data", take);
    child.stderr!.on("data", take);
    const timer = setTimeout(() => child.kill("SIGTERM"), 30 * 60_000);
    child.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const size = /image size\s+(\d+) MiB in all, (-?\d+) MiB over the base/.exec(output);
  const healthy = /healthy after start\s+(\d+) ms/.exec(output);
  if (!size) return { measured: false, reason: `container-check did not report an image size (its output ends: ${output.slice(-300).replace(/\s+/g, " ")})` };
  return { measured: true, imageMiB: Number(size[1]), aboveBaseMiB: Number(size[2]), toHealthyMs: healthy ? Number(healthy[1]) : undefined, output };
}
