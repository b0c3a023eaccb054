// npm run bench: how `po plan` scales with the fleet, beside the lean per-project loop, and how
// `po apply` of 100 starts scales with --parallelism.
//
// Everything is real and isolated: a temp folder with its own git config and HOME, a harness
// repository (src/sandbox.ts), projects that pin it as a submodule at engine/, and a tmux server of
// its own (TMUX_TMPDIR) on which every project's agent session is live. One template project is
// made with git and copied; each copy's submodule index is refreshed by git (a copy has new inodes
// and ctimes, so its stat data would be stale, as after any `cp -r` of a repository).
//
//   npm run bench [-- --sizes 100,500,1000] [--runs 7] [--no-apply] [--keep]
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CLI, gitIn, harnessToml, makeHarnessRepo, sandboxEnv } from "../src/sandbox/sandbox.js";

const { values: opts } = parseArgs({
  options: {
    sizes: { type: "string", default: "100,500,1000" },
    runs: { type: "string", default: "7" },
    "no-apply": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const SIZES = opts.sizes.split(",").map(Number);
const RUNS = Number(opts.runs);
const APPLY_PROJECTS = 100;
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

const root = mkdtempSync(join(tmpdir(), "po-bench-"));
mkdirSync(join(root, "home"));
const env: NodeJS.ProcessEnv = { ...sandboxEnv(root), HOME: join(root, "home"), NO_COLOR: "1" };
const git = gitIn(env);
const noTemplate = join(root, "no-template"); // no sample hooks in every copy
mkdirSync(noTemplate);

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function tmux(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync("tmux", args, { env, encoding: "utf8", timeout: 60_000 });
}

let cleaned = false;
function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  if (opts.keep) {
    log(
      `kept ${root} (TMUX_TMPDIR=${env.TMUX_TMPDIR}); remove it with: TMUX_TMPDIR=${env.TMUX_TMPDIR} tmux kill-server; rm -rf ${root}`,
    );
    return;
  }
  tmux("kill-server");
  rmSync(root, { recursive: true, force: true });
}
process.on("exit", cleanup);
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));

// ---- the fleet ----

const AGENTS = `[agents.a]\ncommand = ["sleep", "3600"]\nwatch = "none"\n`;

function makeTemplate(harnessUrl: string): string {
  const dir = join(root, "template");
  mkdirSync(dir);
  const g = (cwd: string, ...args: string[]) => git(cwd, "-c", `init.templateDir=${noTemplate}`, ...args);
  g(dir, "init", "-q");
  g(dir, "submodule", "add", "-q", harnessUrl, "engine");
  g(join(dir, "engine"), "checkout", "-q", "v0.1.0");
  writeFileSync(join(dir, "agents.toml"), AGENTS);
  writeFileSync(join(dir, ".gitignore"), ".ao-state/\n");
  g(dir, "add", ".");
  g(dir, "commit", "-qm", "a project of the bench fleet");
  // Files older than any index written from now on: never racily clean in a copy.
  const past = new Date(Date.now() - 3600_000);
  for (const f of readdirSync(join(dir, "engine"))) if (f !== ".git") utimesSync(join(dir, "engine", f), past, past);
  return dir;
}

/** Runs `argv` for each item, `limit` at once; throws on the first failure. */
async function runAll(items: string[][], limit: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const [cmd, ...args] = items[next++];
      await new Promise<void>((resolve, reject) => {
        const child = spawn(cmd, args, { env, stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        child.stderr.on("data", (d) => (err += d));
        child.on("error", reject);
        child.on("close", (code) =>
          code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")}: ${err.trim()}`)),
        );
      });
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** `count` copies of the template under `dir`, named `${prefix}0001`…, their submodule index refreshed by git. */
async function copies(template: string, dir: string, prefix: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const out = Array.from({ length: count }, (_, i) => join(dir, `${prefix}${String(i + 1).padStart(4, "0")}`));
  for (const p of out) cpSync(template, p, { recursive: true, preserveTimestamps: true });
  await runAll(
    out.map((p) => ["git", "-C", join(p, "engine"), "update-index", "-q", "--refresh"]),
    4,
  );
  return out;
}

function sessionOf(project: string): string {
  return `${project.split("/").pop()}-a`;
}

/** One live session per project, started by tmux from one command file. */
function startSessions(projects: string[]): void {
  const file = join(root, "sessions.tmux");
  writeFileSync(file, projects.map((p) => `new-session -d -s ${sessionOf(p)} -c ${p} "sleep 99999"\n`).join(""));
  const r = tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench-keeper", "sleep 99999", ";", "source-file", file);
  if (r.status !== 0) throw new Error(`tmux: ${r.stderr}`);
}

function writeFleet(
  dir: string,
  projects: string[],
  harnessUrl: string,
  harness = harnessToml("h", harnessUrl),
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "fleet.toml");
  const body = projects
    .map(
      (p) =>
        `[projects.${p.split("/").pop()}]\nlocation = ${JSON.stringify(p)}\nharness = "h"\nref = "v0.1.0"\nenabled = true\n`,
    )
    .join("\n");
  writeFileSync(file, `version = 1\n\n${harness}\n${body}`);
  return file;
}

// ---- measuring ----

interface Run {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function timed(cmd: string, args: string[], cwd: string): Run {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 << 20, timeout: 600_000 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Peak RSS (MB) and CPU seconds of the whole command, from GNU time, or of po itself via a preload. */
function measured(args: string[], cwd: string): { run: Run; rssMb: number; cpuS?: number } {
  const out = join(root, "usage.txt");
  if (TIME) {
    const run = timed(TIME, ["-v", "-o", out, process.execPath, CLI, ...args], cwd);
    const text = readFileSync(out, "utf8");
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      run,
      rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
      cpuS: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
    };
  }
  const preload = join(root, "rss.cjs");
  writeFileSync(
    preload,
    `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const run = timed(process.execPath, ["-r", preload, CLI, ...args], cwd);
  return { run, rssMb: Number(readFileSync(out, "utf8")) / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function check(r: Run, what: string, code = 0): Run {
  if (r.code !== code)
    throw new Error(`${what}: exit ${r.code}, expected ${code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r;
}

/** The lean loop: git ls-tree, git rev-parse and tmux has-session per project, one after another. */
function leanLoop(projects: string[]): number {
  const t = process.hrtime.bigint();
  for (const p of projects) {
    const pin = spawnSync("git", ["--no-optional-locks", "ls-tree", "HEAD", "--", "engine"], {
      cwd: p,
      env,
      encoding: "utf8",
    });
    const head = spawnSync("git", ["--no-optional-locks", "rev-parse", "HEAD"], {
      cwd: join(p, "engine"),
      env,
      encoding: "utf8",
    });
    const live = spawnSync("tmux", ["has-session", "-t", `=${sessionOf(p)}`], { env });
    if (
      pin.status !== 0 ||
      head.status !== 0 ||
      live.status !== 0 ||
      pin.stdout.split(" ")[2].slice(0, 40) !== head.stdout.trim()
    )
      throw new Error(`lean loop: ${p} is not in sync`);
  }
  return Number(process.hrtime.bigint() - t) / 1e6;
}

interface PlanRow {
  n: number;
  ms: number;
  min: number;
  max: number;
  rssMb: number;
  leanMs: number;
  /** questions the fast path declined, so that git was asked (PO_DEBUG says each) */
  declined: number;
}

function planBench(n: number, fleet: string, projects: string[]): PlanRow {
  const args = ["plan", "--fleet", fleet, "--detailed-exitcode"];
  check(timed(process.execPath, [CLI, ...args], root), `po plan (${n})`); // warm the page cache
  const times = Array.from(
    { length: RUNS },
    () => check(timed(process.execPath, [CLI, ...args], root), `po plan (${n})`).ms,
  );
  const mem = measured(args, root);
  check(mem.run, `po plan (${n}, measured)`);
  env.PO_DEBUG = "1";
  const debug = check(timed(process.execPath, [CLI, ...args], root), `po plan (${n}, PO_DEBUG)`);
  delete env.PO_DEBUG;
  const declined = debug.stderr.split("\n").filter((l) => l.includes("fast path declined")).length;
  const leanMs = leanLoop(projects);
  const row = {
    n,
    ms: median(times),
    min: Math.min(...times),
    max: Math.max(...times),
    rssMb: mem.rssMb,
    leanMs,
    declined,
  };
  log(
    `  ${n} projects: po plan ${row.ms.toFixed(0)} ms (median of ${RUNS}), lean loop ${(leanMs / 1000).toFixed(1)} s`,
  );
  return row;
}

/**
 * A harness as light as a real one (a small script that asks tmux for the agent's session), for
 * comparison with the sandbox harness, whose `up` costs two node start-ups. The script is constant:
 * the session name comes from the project folder, never from fleet data spliced into a shell string.
 */
const LIGHT_UP =
  's="$(basename "$PWD")-a"; tmux has-session -t "=$s" 2>/dev/null || tmux new-session -d -s "$s" -c "$PWD" sleep 3600';
const LIGHT_DOWN = 'tmux kill-session -t "=$(basename "$PWD")-a" 2>/dev/null; true';
const lightHarness = (url: string) =>
  `[harnesses.h]\nurl = ${JSON.stringify(url)}\nup = ["sh", "-c", ${JSON.stringify(LIGHT_UP)}]\ndown = ["sh", "-c", ${JSON.stringify(LIGHT_DOWN)}]\n`;

interface ApplyRow {
  parallelism: string;
  ms: number;
  cpuS?: number;
  rssMb: number;
}

function applyBench(harnessUrl: string, projects: string[], harness: string, name: string): ApplyRow[] {
  const fleet = writeFleet(join(root, `apply-fleet-${name}`), projects, harnessUrl, harness);
  const sessions = projects.map(sessionOf);
  const rows: ApplyRow[] = [];
  for (const parallelism of ["1", "2", "default (4)"]) {
    const args = [
      "apply",
      "--fleet",
      fleet,
      "--yes",
      ...(parallelism.startsWith("default") ? [] : ["--parallelism", parallelism]),
    ];
    const plan = check(
      timed(process.execPath, [CLI, "plan", "--fleet", fleet, "--json"], root),
      "po plan before apply",
    );
    const kinds = (JSON.parse(plan.stdout) as { actions: { kind: string }[] }).actions.map((a) => a.kind);
    if (kinds.length !== projects.length || kinds.some((k) => k !== "start"))
      throw new Error(`apply bench: expected ${projects.length} starts, got ${kinds.join(", ")}`);
    const m = measured(args, root);
    check(m.run, `po apply --parallelism ${parallelism}`);
    const live = new Set(tmux("list-sessions", "-F", "#{session_name}").stdout.split("\n"));
    if (!sessions.every((s) => live.has(s))) throw new Error("apply bench: not every session came up");
    rows.push({ parallelism, ms: m.run.ms, rssMb: m.rssMb, ...(m.cpuS !== undefined ? { cpuS: m.cpuS } : {}) });
    log(`  apply ${projects.length} starts, parallelism ${parallelism}: ${(m.run.ms / 1000).toFixed(1)} s`);
    // stop them again, in one tmux call
    const kill = tmux(...sessions.flatMap((s, i) => [...(i ? [";"] : []), "kill-session", "-t", `=${s}`]));
    if (kill.status !== 0) throw new Error(`tmux kill-session: ${kill.stderr}`);
  }
  return rows;
}

// ---- the report ----

function applyTable(rows: ApplyRow[], harness: string): string[] {
  const base = rows[0].ms;
  const cpu = (r: ApplyRow) =>
    r.cpuS !== undefined ? [`${r.cpuS.toFixed(1)} s`, (r.cpuS / (r.ms / 1000)).toFixed(2)] : ["n/a", "n/a"];
  return [
    "",
    `po apply: ${APPLY_PROJECTS} projects to start, ${harness}`,
    "",
    table([
      ["parallelism", "wall", "speed-up", "CPU (user+sys)", "CPU/wall"],
      ...rows.map((r) => [r.parallelism, `${(r.ms / 1000).toFixed(1)} s`, `${(base / r.ms).toFixed(2)}×`, ...cpu(r)]),
    ]),
  ];
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "))
    .join("\n");
}

function verdict(ok: boolean, text: string): string {
  return `${ok ? "PASS" : "MISS"}  ${text}`;
}

async function main(): Promise<void> {
  const started = Date.now();
  const harnessUrl = join(root, "harness");
  makeHarnessRepo(harnessUrl, git);
  const template = makeTemplate(harnessUrl);
  const max = Math.max(...SIZES);
  log(`making ${max} projects${opts["no-apply"] ? "" : ` (+${APPLY_PROJECTS} for apply)`} in ${root}…`);
  const projects = await copies(template, join(root, "fleet"), "p", max);
  const applyProjects = opts["no-apply"] ? [] : await copies(template, join(root, "apply"), "a", APPLY_PROJECTS);
  startSessions(projects);
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s; ${max} sessions live`);

  log("po plan against the lean loop:");
  const rows = SIZES.map((n) =>
    planBench(n, writeFleet(join(root, `fleet-${n}`), projects.slice(0, n), harnessUrl), projects.slice(0, n)),
  );
  const applyRows = opts["no-apply"] ? [] : applyBench(harnessUrl, applyProjects, harnessToml("h", harnessUrl), "node");
  const lightRows = opts["no-apply"] ? [] : applyBench(harnessUrl, applyProjects, lightHarness(harnessUrl), "light");

  const lines: string[] = [];
  lines.push(
    `po plan, in-sync fleets (all sessions live), median of ${RUNS} runs; lean loop = git ls-tree + git rev-parse + tmux has-session per project, sequential`,
  );
  lines.push("");
  lines.push(
    table([
      [
        "projects",
        "po plan",
        "min..max",
        "per project",
        "peak RSS",
        "git fallbacks",
        "lean loop",
        "per project",
        "lean/po",
      ],
      ...rows.map((r) => [
        String(r.n),
        `${r.ms.toFixed(0)} ms`,
        `${r.min.toFixed(0)}..${r.max.toFixed(0)}`,
        `${((r.ms / r.n) * 1000).toFixed(0)} µs`,
        `${r.rssMb.toFixed(0)} MB`,
        String(r.declined),
        `${(r.leanMs / 1000).toFixed(2)} s`,
        `${(r.leanMs / r.n).toFixed(1)} ms`,
        `${(r.leanMs / r.ms).toFixed(0)}×`,
      ]),
    ]),
  );
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (rows.length > 1) {
    const marginal = (last.ms - first.ms) / (last.n - first.n);
    lines.push("");
    lines.push(
      `growth ${first.n}→${last.n} (${last.n / first.n}× the projects): po plan ${(last.ms / first.ms).toFixed(2)}×, lean loop ${(last.leanMs / first.leanMs).toFixed(2)}×; ` +
        `po plan costs ${first.ms.toFixed(0)} ms at ${first.n} and ${(marginal * 1000).toFixed(0)} µs per further project`,
    );
  }
  if (applyRows.length) {
    lines.push(
      ...applyTable(
        applyRows,
        "the sandbox harness: up = node engine/harness.mjs up → po agents up → tmux new-session",
      ),
    );
    const one = applyRows[0];
    if (one.cpuS !== undefined) {
      const busy = one.cpuS / (one.ms / 1000);
      lines.push("");
      lines.push(
        `each start costs ${((one.cpuS / APPLY_PROJECTS) * 1000).toFixed(0)} ms of CPU (mostly two node start-ups: the harness's entry point and the po agents up it runs); ` +
          `at --parallelism 1 the CPU is busy ${(busy * 100).toFixed(0)}% of the time, so on ${availableParallelism()} cores no parallelism can do better than ≈${(availableParallelism() / busy).toFixed(1)}×`,
      );
    }
    lines.push(...applyTable(lightRows, "a light harness: up = sh -c 'tmux has-session … || tmux new-session …'"));
  }
  lines.push("");
  lines.push("targets:");
  const at = (n: number) => rows.find((r) => r.n === n);
  const r1000 = at(1000);
  const r500 = at(500);
  if (r1000) {
    lines.push(verdict(r1000.ms <= 1000, `1000 projects: po plan ${r1000.ms.toFixed(0)} ms ≤ 1000 ms`));
    lines.push(
      verdict(
        r1000.leanMs / r1000.ms >= 20,
        `1000 projects: ${(r1000.leanMs / r1000.ms).toFixed(0)}× faster than the lean loop (≥ 20×)`,
      ),
    );
    lines.push(verdict(r1000.rssMb < 200, `1000 projects: peak memory ${r1000.rssMb.toFixed(0)} MB < 200 MB`));
  }
  if (r500) {
    lines.push(verdict(r500.ms <= 600, `500 projects: po plan ${r500.ms.toFixed(0)} ms ≤ 600 ms`));
    lines.push(
      verdict(
        r500.ms <= 1500 && r500.leanMs / r500.ms >= 10,
        `500 projects, plan --detailed-exitcode exits 0: ${r500.ms.toFixed(0)} ms ≤ 1.5 s and ${(r500.leanMs / r500.ms).toFixed(0)}× (≥ 10×) the lean loop`,
      ),
    );
  }
  if (rows.length > 1)
    lines.push(
      verdict(
        last.ms / first.ms <= last.n / first.n,
        `growth ${first.n}→${last.n}: ${(last.ms / first.ms).toFixed(2)}× for ${last.n / first.n}× the projects (linear or better)`,
      ),
    );
  for (const [rowsOf, which] of [
    [applyRows, "sandbox harness"],
    [lightRows, "light harness"],
  ] as const) {
    if (!rowsOf.length) continue;
    const speedup = rowsOf[0].ms / rowsOf[rowsOf.length - 1].ms;
    lines.push(
      verdict(
        speedup >= 3,
        `apply of ${APPLY_PROJECTS} starts (${which}): default parallelism ${speedup.toFixed(2)}× faster than --parallelism 1 (≥ 3×)`,
      ),
    );
  }
  lines.push("");
  lines.push(
    `(${process.platform}, ${availableParallelism()} cores, node ${process.version}, ${execFileSync("git", ["--version"], { encoding: "utf8" }).trim()}, tmux ${tmux("-V").stdout.trim().split(" ")[1]}; bench took ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

main().catch((e) => {
  log(`bench failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
});
