// The bench's world and stopwatch: an isolated temp folder (own git config, HOME and tmux server),
// po run as a child process, wall time, peak RSS and CPU of a run, and the report's tables.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, gitIn, sandboxEnv } from "../src/sandbox/sandbox.js";

export { CLI };

export const root = mkdtempSync(join(tmpdir(), "po-bench-"));
mkdirSync(join(root, "home"));
export const env: NodeJS.ProcessEnv = { ...sandboxEnv(root), HOME: join(root, "home"), NO_COLOR: "1" };
export const git = gitIn(env);
const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function tmux(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync("tmux", args, { env, encoding: "utf8", timeout: 60_000 });
}

let cleaned = false;
export function cleanupOnExit(keep: boolean): void {
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    if (keep) return log(`kept ${root} (TMUX_TMPDIR=${env.TMUX_TMPDIR}); remove it with: rm -rf ${root}`);
    tmux("kill-server");
    rmSync(root, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => process.exit(130));
}

export interface Run {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

export function timed(cmd: string, args: string[], cwd = root, extraEnv: NodeJS.ProcessEnv = {}): Run {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...env, ...extraEnv },
    encoding: "utf8",
    maxBuffer: 256 << 20,
    timeout: 600_000,
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  return { ms, code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Peak RSS (MB) and CPU seconds of the whole command, from GNU time, or of po itself via a preload. */
export function measured(args: string[]): { run: Run; rssMb: number; cpuS?: number } {
  const out = join(root, "usage.txt");
  if (TIME) {
    const run = timed(TIME, ["-v", "-o", out, process.execPath, CLI, ...args]);
    const text = readFileSync(out, "utf8");
    const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    return {
      run,
      rssMb: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
      cpuS: num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/),
    };
  }
  const preload = join(root, "rss.cjs");
  const write = `require("node:fs").writeFileSync(${JSON.stringify(out)}, String(process.resourceUsage().maxRSS))`;
  writeFileSync(preload, `process.on("exit", () => ${write});\n`);
  const run = timed(process.execPath, ["-r", preload, CLI, ...args]);
  return { run, rssMb: Number(readFileSync(out, "utf8")) / 1024 };
}

export function po(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  return timed(process.execPath, [CLI, ...args], root, extraEnv);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function check(r: Run, what: string, code = 0): Run {
  if (r.code !== code)
    throw new Error(`${what}: exit ${r.code}, expected ${code}\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  return r;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "))
    .join("\n");
}

export function verdict(ok: boolean, text: string): string {
  return `${ok ? "PASS" : "MISS"}  ${text}`;
}
