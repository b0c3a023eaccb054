// A sandbox for po agents against a real tmux server of its own (TMUX_TMPDIR, HOME and
// XDG_CONFIG_HOME of its own, TMUX unset), with tmux itself as the oracle: used by agents.test.ts.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TestContext } from "node:test";
import { execa } from "execa";
import type { AgentStatus } from "../../src/agents/status.js";
import { jsonIfPresent, NO_TMUX_SERVER } from "./world.js";
import { watchdogPids } from "./proctree.js";

const DIST = fileURLToPath(new URL("../..", import.meta.url));
const PO_AGENTS = [join(DIST, "src", "cli", "main.js"), "agents"]; // the real CLI, as a child process

/** po agents status --json: one line per agent. */
export async function statusLines(s: Sandbox): Promise<AgentStatus[]> {
  return (await ok(s.po("status", "--json")))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AgentStatus);
}

export interface Sandbox {
  dir: string;
  po(...args: string[]): Promise<{ exitCode?: number; stdout: string; stderr: string }>;
  agents(toml: string): Promise<void>;
}

const ENV_KEYS = ["TMUX_TMPDIR", "TMUX", "HOME", "XDG_CONFIG_HOME"] as const;

export async function sandbox(t: TestContext, folder = "proj"): Promise<Sandbox> {
  const base = await mkdtemp(join(tmpdir(), "po-agents-"));
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  process.env.TMUX_TMPDIR = join(base, "tmux");
  process.env.HOME = join(base, "home");
  process.env.XDG_CONFIG_HOME = join(base, "home", ".config");
  delete process.env.TMUX;
  const dir = join(base, folder);
  await Promise.all([process.env.TMUX_TMPDIR, process.env.HOME, dir].map((d) => mkdir(d, { recursive: true })));
  const po = async (...args: string[]) => {
    const r = await execa(process.execPath, [...PO_AGENTS, ...args, "--dir", dir], {
      reject: false,
      timeout: 60_000,
      stdin: "ignore",
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  t.after(async () => {
    await po("down").catch(() => undefined);
    for (const pid of watchdogPids(dir)) process.kill(pid, "SIGKILL");
    await execa("tmux", ["kill-server"], { reject: false, timeout: 10_000 });
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await rm(base, { recursive: true, force: true });
  });
  return { dir, po, agents: (toml) => writeFile(join(dir, "agents.toml"), toml) };
}

/** Watches `cond` for `ms` and fails if it ever holds. */
export async function never(what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    assert.ok(!(await cond()), `${what} happened`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** tmux itself (the test's oracle, never po's adapter): its stdout, "" when no server runs, else it throws. */
async function tmux(...args: string[]): Promise<string> {
  const r = await execa("tmux", args, { reject: false, timeout: 10_000 });
  if (r.exitCode === 0) return String(r.stdout);
  if (NO_TMUX_SERVER.test(String(r.stderr))) return "";
  throw new Error(`tmux ${args.join(" ")} failed (exit ${r.exitCode}): ${String(r.stderr).trim()}`);
}

// Each agent's session has one pane, so list-sessions can tell its pane's formats; `list-panes -a`
// fails ("no current target") on a server whose last session just ended and that has not exited yet.
const perSession = async (format: string) => (await tmux("list-sessions", "-F", format)).split("\n").filter(Boolean);

/** The sessions whose pane tmux does not call dead. */
export async function liveSessions(): Promise<Set<string>> {
  const panes = await perSession("#{pane_dead} #{session_name}");
  return new Set(panes.filter((l) => l.startsWith("0 ")).map((l) => l.slice(2)));
}

export async function killSession(name: string): Promise<void> {
  await tmux("kill-session", "-t", `=${name}`);
}

export async function panePids(): Promise<Map<string, string>> {
  const panes = await perSession("#{session_name} #{pane_pid}");
  return new Map(panes.map((l) => l.split(" ") as [string, string]));
}

interface WatchdogState {
  checks: number;
  agents?: Record<string, { restarts?: number }>;
}

/** The watchdog's saved state (-1 checks and restarts before its first save). */
const watchdogState = (dir: string) => jsonIfPresent<WatchdogState>(join(dir, ".ao-state", "agents.json"));
export const stateRestarts = (dir: string, agent: string) => {
  const state = watchdogState(dir);
  return state ? (state.agents?.[agent]?.restarts ?? 0) : -1;
};
export const stateChecks = (dir: string) => watchdogState(dir)?.checks ?? -1;

export const agent = (name: string, watch: string, command = '["sleep", "3600"]') =>
  `[agents.${name}]\ncommand = ${command}\nwatch = "${watch}"\n`;
export const SLEEPERS = `[watchdog]\ninterval_s = 1\n\n${agent("a", "heal")}\n${agent("b", "none")}`;

export async function ok(r: Promise<{ exitCode?: number; stdout: string; stderr: string }>): Promise<string> {
  const { exitCode, stdout, stderr } = await r;
  assert.equal(exitCode, 0, `po agents failed: ${stderr}`);
  return stdout;
}
