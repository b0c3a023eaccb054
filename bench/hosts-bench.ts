// npm run bench (after bench.ts): `po plan` of 300 projects on 3 hosts × 100 over loopback OpenSSH,
// beside `po plan` of the same 300 projects all on this machine.
//
// Real and isolated: a temp folder with its own git config and HOME, a harness repository, one
// template project copied 300 times, three throwaway sshd "hosts" on 127.0.0.1 (test/support/sshd.ts)
// each with its own tmux server. Each host's po is this build. "cold" is a run with no ssh connection
// yet (a fresh control-socket folder: one handshake per host); "warm" reuses the multiplexed one.
//
//   npm run bench -- [--runs 5] [--per-host 100]
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLI, gitIn, harnessToml, makeHarnessRepo, sandboxEnv } from "../src/sandbox/sandbox.js";
import { startHosts, type Hosts } from "../test/support/sshd.js";

const { values: opts } = parseArgs({
  options: { runs: { type: "string", default: "5" }, "per-host": { type: "string", default: "100" } },
  strict: false,
});
const RUNS = Number(opts.runs);
const PER_HOST = Number(opts["per-host"]);
const HOSTS = ["h1", "h2", "h3"];

const root = mkdtempSync(join(tmpdir(), "po-hosts-bench-"));
mkdirSync(join(root, "home"));
let env: NodeJS.ProcessEnv = { ...sandboxEnv(root), HOME: join(root, "home"), NO_COLOR: "1" };
const git = gitIn(env);
let hosts: Hosts | undefined;

function project(template: string, dir: string): void {
  cpSync(template, dir, { recursive: true });
  // a copy has new inodes and ctimes: git refreshes its stat data once, as after any cp -r of a repository
  for (const d of [dir, join(dir, "engine")])
    spawnSync("git", ["-C", d, "update-index", "-q", "--refresh"], { env, stdio: "ignore" });
}

function fleet(name: string, placed: { name: string; dir: string; host?: string }[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const hostTables = HOSTS.map((h) => `[hosts.${h}]\nssh = "${h}"\npo = ${JSON.stringify([process.execPath, CLI])}\n`);
  const body = placed.map(
    (p) =>
      `[projects.${p.name}]\n${p.host ? `host = "${p.host}"\n` : ""}location = ${JSON.stringify(p.dir)}\n` +
      `harness = "h"\nref = "v0.1.0"\nenabled = false\n`,
  );
  writeFileSync(
    join(dir, "fleet.toml"),
    ["version = 1\n", ...hostTables, harnessToml("h", join(root, "harness")), ...body].join("\n"),
  );
  return dir;
}

function plan(cwd: string, runtime: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, "plan", "--detailed-exitcode"], {
    cwd,
    env: { ...env, XDG_RUNTIME_DIR: runtime },
    encoding: "utf8",
    timeout: 600_000,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`po plan in ${cwd}: exit ${r.status}\n${r.stdout.slice(-1500)}${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  makeHarnessRepo(join(root, "harness"), git);
  const template = join(root, "template");
  mkdirSync(template);
  git(template, "init", "-q");
  git(template, "submodule", "add", "-q", join(root, "harness"), "engine");
  git(join(template, "engine"), "checkout", "-q", "v0.1.0");
  writeFileSync(join(template, "agents.toml"), `[agents.a]\ncommand = ["sleep", "3600"]\nwatch = "none"\n`);
  git(template, "add", ".");
  git(template, "commit", "-qm", "a project of the hosts bench");
  const placed = HOSTS.flatMap((h) =>
    Array.from({ length: PER_HOST }, (_, i) => {
      const name = `${h}-p${String(i).padStart(3, "0")}`;
      return { name, dir: join(root, "projects", name), host: h };
    }),
  );
  mkdirSync(join(root, "projects"));
  for (const p of placed) project(template, p.dir);
  hosts = await startHosts(root, HOSTS, { gitConfig: env.GIT_CONFIG_GLOBAL! });
  env = hosts.withSsh(env);
  const here = fleet(
    "fleet-here",
    placed.map(({ host: _, ...p }) => p),
  );
  const there = fleet("fleet-hosts", placed);
  const rows: [string, string, number, number][] = [];
  for (const [label, cwd] of [
    [`${placed.length} projects here`, here],
    [`${HOSTS.length} hosts × ${PER_HOST} over loopback ssh`, there],
  ] as const) {
    const runtime = join(root, `run-${rows.length}`);
    mkdirSync(runtime, { mode: 0o700 });
    const cold = plan(cwd, runtime);
    const warm = Array.from({ length: RUNS }, () => plan(cwd, runtime));
    rows.push([label, "po plan", cold, median(warm)]);
  }
  process.stdout.write(`\npo plan across hosts (${placed.length} projects; warm: median of ${RUNS})\n`);
  process.stdout.write(`${"fleet".padEnd(34)}${"cold ms".padStart(10)}${"warm ms".padStart(10)}\n`);
  for (const [label, , cold, warm] of rows)
    process.stdout.write(`${label.padEnd(34)}${cold.toFixed(0).padStart(10)}${warm.toFixed(0).padStart(10)}\n`);
}

main()
  .catch((e) => {
    process.stderr.write(`hosts bench failed: ${(e as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await hosts?.dispose();
    rmSync(root, { recursive: true, force: true });
  });
