// The apply half of the bench (npm run bench -- --apply): `po apply` of 100 starts at parallelism
// 1, 2 and the default, with the sandbox harness (two node start-ups per start) and a light one.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { harnessToml } from "../src/sandbox/sandbox.js";
import { check, log, measured, po, root, table, tmux, verdict } from "./measure.js";
import { writeFleet } from "./fleets.js";

export const APPLY_PROJECTS = 100;

/**
 * A harness as light as a real one (a small script that asks tmux for the agent's session). The
 * script is constant: the session name comes from the project folder, never from fleet data.
 */
const LIGHT_UP =
  's="$(basename "$PWD")-a"; tmux has-session -t "=$s" 2>/dev/null || tmux new-session -d -s "$s" -c "$PWD" sleep 3600';
const LIGHT_DOWN = 'tmux kill-session -t "=$(basename "$PWD")-a" 2>/dev/null; true';
const lightHarness = (url: string) =>
  `[harnesses.h]\nurl = ${JSON.stringify(url)}\n` +
  `up = ["sh", "-c", ${JSON.stringify(LIGHT_UP)}]\ndown = ["sh", "-c", ${JSON.stringify(LIGHT_DOWN)}]\n`;

interface ApplyRow {
  parallelism: string;
  ms: number;
  cpuS?: number;
  rssMb: number;
}

function applyRuns(harnessUrl: string, projects: string[], harness: string, name: string): ApplyRow[] {
  const fleet = writeFleet(join(root, `apply-fleet-${name}`), projects, harnessUrl, "v0.1.0", true, harness);
  const sessions = projects.map((p) => `${p.split("/").pop()}-a`);
  const rows: ApplyRow[] = [];
  for (const parallelism of ["1", "2", "default (4)"]) {
    const par = parallelism.startsWith("default") ? [] : ["--parallelism", parallelism];
    const plan = check(po(["plan", "--fleet", fleet, "--json"]), "po plan before apply");
    const kinds = (JSON.parse(plan.stdout) as { actions: { kind: string }[] }).actions.map((a) => a.kind);
    if (kinds.length !== projects.length || kinds.some((k) => k !== "start"))
      throw new Error(`apply bench: expected ${projects.length} starts, got ${kinds.join(", ")}`);
    const m = measured(["apply", "--fleet", fleet, "--yes", ...par]);
    check(m.run, `po apply --parallelism ${parallelism}`);
    const live = new Set(tmux("list-sessions", "-F", "#{session_name}").stdout.split("\n"));
    if (!sessions.every((s) => live.has(s))) throw new Error("apply bench: not every session came up");
    rows.push({ parallelism, ms: m.run.ms, rssMb: m.rssMb, ...(m.cpuS !== undefined ? { cpuS: m.cpuS } : {}) });
    log(`  apply ${projects.length} starts, parallelism ${parallelism}: ${(m.run.ms / 1000).toFixed(1)} s`);
    const kill = tmux(...sessions.flatMap((s, i) => [...(i ? [";"] : []), "kill-session", "-t", `=${s}`]));
    if (kill.status !== 0) throw new Error(`tmux kill-session: ${kill.stderr}`);
  }
  return rows;
}

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

/** The apply report: both harnesses, then the targets. */
export function applyBench(harnessUrl: string, projects: string[]): string[] {
  const node = applyRuns(harnessUrl, projects, harnessToml("h", harnessUrl), "node");
  const light = applyRuns(harnessUrl, projects, lightHarness(harnessUrl), "light");
  const lines = applyTable(node, "the sandbox harness: up = node engine/harness.mjs up → po agents up → tmux");
  const one = node[0];
  if (one.cpuS !== undefined) {
    const busy = one.cpuS / (one.ms / 1000);
    const cores = availableParallelism();
    lines.push(
      "",
      `each start costs ${((one.cpuS / APPLY_PROJECTS) * 1000).toFixed(0)} ms of CPU; ` +
        `at --parallelism 1 the CPU is busy ${(busy * 100).toFixed(0)}% of the time, ` +
        `so on ${cores} cores no parallelism can do better than ≈${(cores / busy).toFixed(1)}×`,
    );
  }
  lines.push(...applyTable(light, "a light harness: up = sh -c 'tmux has-session … || tmux new-session …'"), "");
  for (const [rows, which] of [
    [node, "sandbox harness"],
    [light, "light harness"],
  ] as const) {
    const speedup = rows[0].ms / rows[rows.length - 1].ms;
    lines.push(
      verdict(
        speedup >= 3,
        `apply of ${APPLY_PROJECTS} starts (${which}): default ${speedup.toFixed(2)}× --parallelism 1 (≥ 3×)`,
      ),
    );
  }
  return lines;
}
