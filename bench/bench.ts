// npm run bench: `po plan` on fleets of 100, 500 and 1000 projects of three kinds, in sync and with
// every project needing a pin, beside the lean per-project git loop measured in the same run.
//
// Kinds: small (the sandbox harness, copies refreshed by git), realistic (a harness like real ones,
// see fleets.ts; copies refreshed) and cp -a (realistic copies never refreshed: every index entry's
// stat data are stale, as after any copy or restore). Everything is real and isolated: a temp
// folder with its own git config and HOME, and a tmux server of its own on which every small
// project's agent session is live. Figures only: nothing here is a timed unit test.
//
//   npm run bench [-- --sizes 100,500,1000] [--kinds small,realistic,cp-a] [--runs 5] [--apply] [--keep]
//   BENCH_SIZES=100,300 npm run bench      (BENCH_SIZES, BENCH_KINDS and BENCH_RUNS set the defaults)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeHarnessRepo } from "../src/sandbox/sandbox.js";
import { copies, makeRealisticHarness, makeTemplate, writeFleet, type Kind } from "./fleets.js";
import { check, cleanupOnExit, env, git, log, measured, median, po, root, table, tmux, verdict } from "./measure.js";
import { APPLY_PROJECTS, applyBench } from "./apply.js";

const { values: opts } = parseArgs({
  options: {
    sizes: { type: "string", default: process.env.BENCH_SIZES ?? "100,500,1000" },
    kinds: { type: "string", default: process.env.BENCH_KINDS ?? "small,realistic,cp-a" },
    runs: { type: "string", default: process.env.BENCH_RUNS ?? "5" },
    apply: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const SIZES = opts.sizes.split(",").map(Number);
const KINDS = opts.kinds.split(",").map((k) => (k === "cp-a" ? "cp -a" : k) as Kind);
const RUNS = Number(opts.runs);
const LEAN_SAMPLE = 100;
cleanupOnExit(opts.keep);

interface Row {
  kind: Kind;
  n: number;
  syncMs: number;
  syncRss: number;
  /** questions the reader was unsure of, so that git was asked (PO_DEBUG says each) */
  fallbacks: number;
  pinMs: number;
  pinRss: number;
  leanMs: number;
}

/** One live session per project, started by tmux from one command file. */
function startSessions(projects: string[]): void {
  const file = join(root, "sessions.tmux");
  const line = (p: string) => `new-session -d -s ${p.split("/").pop()}-a -c ${p} "sleep 99999"\n`;
  writeFileSync(file, projects.map(line).join(""));
  const r = tmux("-f", "/dev/null", "new-session", "-d", "-s", "bench-keeper", "sleep 99999", ";", "source-file", file);
  if (r.status !== 0) throw new Error(`tmux: ${r.stderr}`);
}

/**
 * The lean loop: git ls-tree, git rev-parse REF^{commit} and git status per project, one after
 * another, on a sample of the projects; the time per project. No optional locks, like po: git
 * status would otherwise refresh the copies' indexes and change the fixture.
 */
function leanPerProject(projects: string[]): number {
  const sample = projects.slice(0, LEAN_SAMPLE);
  const quiet = { ...env, GIT_OPTIONAL_LOCKS: "0" };
  const t = process.hrtime.bigint();
  for (const p of sample) {
    const run = (cwd: string, ...args: string[]) => {
      const r = spawnSync("git", args, { cwd, env: quiet, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`lean loop: git ${args.join(" ")} in ${cwd}: ${r.stderr}`);
      return r.stdout;
    };
    run(p, "ls-tree", "HEAD", "--", "engine");
    run(join(p, "engine"), "rev-parse", "--verify", "v0.2.0^{commit}");
    run(join(p, "engine"), "status", "--porcelain");
  }
  return Number(process.hrtime.bigint() - t) / 1e6 / sample.length;
}

function planOf(kind: Kind, n: number, projects: string[], url: string, leanPer: number): Row {
  const dir = join(root, "fleets", `${kind.replace(" ", "")}-${n}`);
  const sync = writeFleet(join(dir, "sync"), projects, url, "v0.1.0", kind === "small");
  const pin = writeFleet(join(dir, "pin"), projects, url, "v0.2.0", false);
  const syncArgs = ["plan", "--fleet", sync, "--detailed-exitcode"];
  check(po(syncArgs), `po plan (${kind}, ${n})`); // clones the harness mirror, warms the page cache
  const syncMs = median(Array.from({ length: RUNS }, () => check(po(syncArgs), `po plan (${kind}, ${n})`).ms));
  const mem = measured(syncArgs);
  check(mem.run, `po plan (${kind}, ${n}, measured)`);
  const syncRss = mem.rssMb;
  const debug = check(po(syncArgs, { PO_DEBUG: "1" }), "po plan, PO_DEBUG");
  const fallbacks = debug.stderr.split("\n").filter((l) => l.includes("reader unsure")).length;
  const pinArgs = ["plan", "--fleet", pin, "--json"];
  const pins = (r: ReturnType<typeof po>) =>
    (
      JSON.parse(check(r, `po plan, all pins (${kind}, ${n})`).stdout) as { actions: { kind: string }[] }
    ).actions.filter((a) => a.kind === "pin").length;
  if (pins(po(pinArgs)) !== n) throw new Error(`${kind}, ${n}: not every project plans a pin`);
  const pinRuns = Array.from({ length: Math.min(RUNS, 3) }, () => po(pinArgs));
  for (const r of pinRuns) if (pins(r) !== n) throw new Error(`${kind}, ${n}: not every project plans a pin`);
  const pinMs = median(pinRuns.map((r) => r.ms));
  const pinRss = measured(pinArgs).rssMb;
  const row = { kind, n, syncMs, syncRss, fallbacks, pinMs, pinRss, leanMs: leanPer * n };
  log(
    `  ${kind} ${n}: in sync ${syncMs.toFixed(0)} ms, all pins ${pinMs.toFixed(0)} ms, ` +
      `lean ${row.leanMs.toFixed(0)} ms`,
  );
  return row;
}

function report(rows: Row[]): string[] {
  const ms = (x: number) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${x.toFixed(0)} ms`);
  const lines = [
    `po plan, median of ${RUNS} runs (all-pins: of ${Math.min(RUNS, 3)}); lean loop = git ls-tree + ` +
      `git rev-parse + git status per project, sequential (timed on ${LEAN_SAMPLE} projects, scaled)`,
    "",
    table([
      [
        "kind",
        "projects",
        "in sync",
        "RSS",
        "git fallbacks",
        "lean/po",
        "all need a pin",
        "RSS",
        "lean/po",
        "lean loop",
      ],
      ...rows.map((r) => [
        r.kind,
        String(r.n),
        ms(r.syncMs),
        `${r.syncRss.toFixed(0)} MB`,
        String(r.fallbacks),
        `${(r.leanMs / r.syncMs).toFixed(0)}×`,
        ms(r.pinMs),
        `${r.pinRss.toFixed(0)} MB`,
        `${(r.leanMs / r.pinMs).toFixed(1)}×`,
        ms(r.leanMs),
      ]),
    ]),
    "",
    "targets:",
  ];
  for (const r of rows.filter((x) => x.n === 1000)) {
    const ratio = r.leanMs / r.syncMs;
    lines.push(verdict(r.syncMs <= 500, `${r.kind} 1000 in sync: ${ms(r.syncMs)} ≤ 500 ms`));
    lines.push(verdict(ratio >= 20, `${r.kind} 1000 in sync: ${ratio.toFixed(0)}× the lean loop (≥ 20×)`));
    lines.push(verdict(r.syncRss <= 150, `${r.kind} 1000 in sync: peak RSS ${r.syncRss.toFixed(0)} MB ≤ 150 MB`));
    if (r.kind !== "realistic") continue;
    const pinRatio = r.leanMs / r.pinMs;
    lines.push(verdict(r.pinMs <= 4000, `realistic 1000, all need a pin: ${ms(r.pinMs)} ≤ 4 s`));
    const pinText = `realistic 1000, all need a pin: ${pinRatio.toFixed(1)}× the lean loop (≥ 3×)`;
    lines.push(verdict(pinRatio >= 3, pinText));
  }
  if (!rows.some((r) => r.n === 1000)) lines.push("(targets are stated for 1000 projects; none measured)");
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  const noTemplate = join(root, "no-template"); // no sample hooks in every copy
  mkdirSync(noTemplate);
  const max = Math.max(...SIZES);
  const rows: Row[] = [];
  const urls = { small: join(root, "harness"), real: join(root, "real") };
  makeHarnessRepo(urls.small, git);
  if (KINDS.some((k) => k !== "small")) makeRealisticHarness(urls.real, git);
  let applyLines: string[] = [];
  for (const kind of KINDS) {
    const url = kind === "small" ? urls.small : urls.real;
    const template = makeTemplate(join(root, `template-${kind.replace(" ", "")}`), url, git, noTemplate);
    log(`making ${max} ${kind} projects in ${root}…`);
    const projects = await copies(template, join(root, kind.replace(" ", "")), kind[0], max, kind !== "cp -a", env);
    if (kind === "small") startSessions(projects);
    const leanPer = leanPerProject(projects);
    log(`po plan (${kind}) against the lean loop (${leanPer.toFixed(1)} ms per project):`);
    for (const n of SIZES) rows.push(planOf(kind, n, projects.slice(0, n), url, leanPer));
    if (kind === "small" && opts.apply) {
      const applyProjects = await copies(template, join(root, "apply"), "a", APPLY_PROJECTS, true, env);
      applyLines = applyBench(url, applyProjects);
    }
  }
  const gitVersion = execFileSync("git", ["--version"], { encoding: "utf8" }).trim();
  const about = `${process.platform}, ${availableParallelism()} cores, node ${process.version}, ${gitVersion}`;
  const took = `bench took ${((Date.now() - started) / 1000).toFixed(0)} s`;
  process.stdout.write([...report(rows), ...applyLines, "", `(${about}; ${took})`].join("\n") + "\n");
}

main().catch((e) => {
  log(`bench failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
});
