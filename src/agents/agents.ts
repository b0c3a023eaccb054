// po agents up | down | status: runs the agents of one directory's agents.toml as tmux sessions,
// plus the heal watchdog (src/watchdog.ts) when an agent has watch = "heal". This is the reference
// implementation of the harness contract (docs/harness-contract.md).
//
// What an agent gets: its `command` runs in tmux session `{dir}-{agent}` ({dir} is the directory's
// base name; '.' and ':' become '_', as tmux requires) with the directory as working directory and
// two environment variables:
//   PO_AGENT        the agent's name
//   PO_PROMPT_FILE  the absolute path of its `prompt` file (only when it has one)
// Everything the agent prints is appended to DIR/.ao-state/logs/AGENT.log.
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { appendFile, mkdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { AGENTS_FILE, requireAgents, type AgentSpec, type AgentsConfig } from "../registry/agents-file.js";
import { COMMON_HELP, parseVerb } from "../cli/args.js";
import { columns, printJson } from "../cli/output.js";
import { pollUntil } from "../common/poll.js";
import { alive, readJson } from "../state/state.js";
import { problemsError, UserError } from "../common/problems.js";
import { killSession, listSessions, listSessionsCreated, newSession, sessionName } from "../adapters/tmux.js";
import type { WatchdogState } from "./watchdog.js";

export const summary = "start, stop or show this directory's agents (tmux sessions + heal watchdog)";

const help = `Usage: po agents up|down|status [--dir DIR] [--json]

Runs the agents of DIR/agents.toml, each in its own tmux session {dir}-{agent}.
  up      validate agents.toml, start every agent that is not running, and start the heal
          watchdog when an agent has watch = "heal" (idempotent: never a second one)
  down    stop the watchdog, then every agent session (idempotent)
  status  per agent: live or dead, since when, restarts, watch mode; the watchdog's pid

Each agent gets PO_AGENT=<name> and PO_PROMPT_FILE=<absolute path of its prompt> in its
environment; its output goes to DIR/.ao-state/logs/AGENT.log, the watchdog's to watchdog.log.

Options:
  --dir DIR      the directory holding agents.toml (default: the current directory)
${COMMON_HELP}`;

/** The compiled watchdog entry point, beside this file in dist/src. */
export const WATCHDOG_SCRIPT = fileURLToPath(new URL("./watchdog.js", import.meta.url));
const STOP_WAIT_MS = 15_000; // longer than one tmux call's timeout, so a tick in flight can finish
const START_WAIT_MS = 5_000;

export function statePaths(dir: string) {
  const state = join(dir, ".ao-state");
  const logs = join(state, "logs");
  return {
    state,
    logs,
    pidFile: join(state, "watchdog.pid"),
    stateFile: join(state, "agents.json"),
    watchdogLog: join(logs, "watchdog.log"),
  };
}

export function agentLog(dir: string, agent: string): string {
  return join(statePaths(dir).logs, `${agent}.log`);
}

export function agentEnv(agent: AgentSpec): Record<string, string> {
  return { PO_AGENT: agent.name, ...(agent.prompt ? { PO_PROMPT_FILE: agent.prompt } : {}) };
}

/** Starts one agent's session (false when it is already there). `why` goes into its log. */
export async function startAgent(dir: string, agent: AgentSpec, why: string): Promise<boolean> {
  const log = agentLog(dir, agent.name);
  await mkdir(statePaths(dir).logs, { recursive: true });
  await appendFile(
    log,
    `\n--- ${new Date().toISOString()} po: starting ${agent.name} (${why}): ${agent.command.join(" ")}\n`,
  );
  return newSession(sessionName(dir, agent.name), dir, agent.command, agentEnv(agent), log);
}

// ---- the watchdog process, seen from outside ----

export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Whether `pid` is alive and really the watchdog of `dir`: a pid file can outlive its process and
 * the pid be reused, so on Linux the command line must name the watchdog script and the directory
 * (compared as real paths: `up` and `down` may name it through different symlinks). A zombie has
 * an empty command line, which counts as dead.
 */
export function isOurWatchdog(pid: number, dir: string): boolean {
  if (!alive(pid)) return false;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const real = realpathOr(dir);
    return args.some((a) => a.endsWith("watchdog.js")) && args.some((a) => a === dir || realpathOr(a) === real);
  } catch {
    return false;
  }
}

export function liveWatchdog(dir: string): number | undefined {
  const pid = readPid(statePaths(dir).pidFile);
  return pid !== undefined && isOurWatchdog(pid, dir) ? pid : undefined;
}

/** Starts the watchdog detached unless one is alive; waits until it has claimed its pid file. */
export async function ensureWatchdog(dir: string): Promise<{ pid: number; started: boolean }> {
  const running = liveWatchdog(dir);
  if (running) return { pid: running, started: false };
  const paths = statePaths(dir);
  await mkdir(paths.logs, { recursive: true });
  const out = openSync(paths.watchdogLog, "a");
  const child = spawn(process.execPath, [WATCHDOG_SCRIPT, dir], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  let exited = false;
  child.on("error", () => (exited = true)).on("exit", () => (exited = true));
  child.unref();
  await pollUntil(() => exited || readPid(paths.pidFile) === child.pid, START_WAIT_MS);
  // A concurrent `up` may have won the race: the watchdog that holds the pid file is the one.
  const pid = liveWatchdog(dir);
  if (!pid) throw new UserError(`the heal watchdog did not start; see ${paths.watchdogLog}`);
  return { pid, started: pid === child.pid };
}

/** SIGTERM, a bounded wait, then SIGKILL. Idempotent. */
export async function stopWatchdog(dir: string): Promise<{ pid?: number; stopped: boolean }> {
  const { pidFile } = statePaths(dir);
  const pid = readPid(pidFile);
  if (pid === undefined) return { stopped: false };
  const wasAlive = isOurWatchdog(pid, dir);
  if (wasAlive) {
    process.kill(pid, "SIGTERM");
    if (!(await pollUntil(() => !isOurWatchdog(pid, dir), STOP_WAIT_MS))) {
      process.kill(pid, "SIGKILL");
      await pollUntil(() => !isOurWatchdog(pid, dir), 2_000);
    }
  }
  if (readPid(pidFile) === pid) rmSync(pidFile, { force: true });
  return { pid, stopped: wasAlive };
}

// ---- the verbs ----

async function checkPrompts(config: AgentsConfig): Promise<void> {
  const problems = [];
  for (const a of config.agents) {
    if (!a.prompt) continue;
    const info = await stat(a.prompt).catch(() => undefined);
    if (!info?.isFile())
      problems.push({
        file: config.file,
        path: `agents.${a.name}.prompt`,
        message: `prompt file not found: ${a.prompt}`,
      });
  }
  if (problems.length) throw problemsError(problems);
}

export interface UpResult {
  started: string[];
  running: string[];
  watchdog: { pid: number; started: boolean } | null;
}

export async function up(dir: string): Promise<UpResult> {
  const config = await requireAgents(dir); // refuses `wake` (and every other problem) before anything starts
  await checkPrompts(config);
  const live = await listSessions();
  const result: UpResult = { started: [], running: [], watchdog: null };
  for (const agent of config.agents) {
    const session = sessionName(dir, agent.name);
    const fresh = !live.has(session) && (await startAgent(dir, agent, "po agents up"));
    (fresh ? result.started : result.running).push(session);
  }
  // After the agents, so the watchdog's first check does not race `up` for the same session.
  if (config.agents.some((a) => a.watch === "heal")) result.watchdog = await ensureWatchdog(dir);
  return result;
}

/** Agent names for `down`: from a valid agents.toml, else leniently from any parseable one. */
async function agentNamesForDown(dir: string): Promise<{ names: string[]; warning?: string }> {
  try {
    return { names: (await requireAgents(dir)).agents.map((a) => a.name) };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    const raw = await readFile(join(dir, AGENTS_FILE), "utf8").catch(() => undefined);
    let agents: unknown;
    try {
      agents = raw === undefined ? undefined : (parse(raw) as { agents?: unknown }).agents;
    } catch {
      agents = undefined;
    }
    if (!agents || typeof agents !== "object") throw e;
    return { names: Object.keys(agents), warning: e.message };
  }
}

export interface DownResult {
  stopped: string[];
  watchdog: { pid?: number; stopped: boolean };
}

export async function down(dir: string): Promise<DownResult> {
  // The watchdog goes first, so nothing restarts the agents we are about to stop.
  const watchdog = await stopWatchdog(dir);
  const { names, warning } = await agentNamesForDown(dir);
  if (warning)
    process.stderr.write(`po agents down: agents.toml has problems, stopping its agents anyway:\n${warning}\n`);
  const live = await listSessions();
  const stopped = [];
  for (const name of names) {
    const session = sessionName(dir, name);
    if (!live.has(session)) continue;
    await killSession(session);
    stopped.push(session);
  }
  return { stopped, watchdog };
}

export function readState(dir: string): WatchdogState | undefined {
  return readJson<WatchdogState | undefined>(statePaths(dir).stateFile, undefined);
}

export interface AgentStatus {
  name: string;
  session: string;
  watch: "heal" | "none";
  live: boolean;
  /** live: when its session was created; dead: when the watchdog first saw it dead, if it did */
  since: string | null;
  restarts: number;
  /** a crash-looping agent's next restart attempt */
  backoffUntil: string | null;
}

export interface StatusResult {
  dir: string;
  agents: AgentStatus[];
  watchdog: { pid: number | null; alive: boolean; lastCheck: string | null };
}

export async function status(dir: string): Promise<StatusResult> {
  const config = await requireAgents(dir);
  const created = await listSessionsCreated();
  const state = readState(dir);
  const agents = config.agents.map((a): AgentStatus => {
    const session = sessionName(dir, a.name);
    const rec = state?.agents[a.name];
    const since = created.get(session)?.toISOString() ?? rec?.deadSince ?? null;
    const live = created.has(session);
    return {
      name: a.name,
      session,
      watch: a.watch,
      live,
      since,
      restarts: rec?.restarts ?? 0,
      backoffUntil: live ? null : (rec?.nextAttempt ?? null),
    };
  });
  const pid = readPid(statePaths(dir).pidFile) ?? null;
  const alive = pid !== null && isOurWatchdog(pid, dir);
  return { dir, agents, watchdog: { pid, alive, lastCheck: alive ? (state?.lastCheck ?? null) : null } };
}

// ---- printing ----

function printUp(r: UpResult): void {
  const lines = [...r.started.map((s) => `started ${s}`), ...r.running.map((s) => `running ${s} (already)`)];
  if (!r.watchdog) lines.push('watchdog: not needed (no agent has watch = "heal")');
  else lines.push(`watchdog: ${r.watchdog.started ? "started" : "already running"}, pid ${r.watchdog.pid}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printDown(r: DownResult): void {
  const wd = r.watchdog.stopped ? `watchdog: stopped pid ${r.watchdog.pid}` : "watchdog: was not running";
  const lines = [wd, ...r.stopped.map((s) => `stopped ${s}`)];
  if (!r.stopped.length) lines.push("no agent session was running");
  process.stdout.write(`${lines.join("\n")}\n`);
}

function printStatus(r: StatusResult): void {
  const rows = r.agents.map((a) => [
    a.name,
    a.session,
    a.live ? "live" : "dead",
    a.since ?? "-",
    String(a.restarts),
    a.backoffUntil ? `${a.watch} (back-off until ${a.backoffUntil})` : a.watch,
  ]);
  const table = rows.length
    ? columns([["AGENT", "SESSION", "STATE", "SINCE", "RESTARTS", "WATCH"], ...rows])
    : "no agents in agents.toml";
  const wd = r.watchdog.alive
    ? `watchdog: pid ${r.watchdog.pid}, alive, last check ${r.watchdog.lastCheck ?? "-"}`
    : `watchdog: not running${r.watchdog.pid ? ` (stale pid ${r.watchdog.pid})` : ""}`;
  process.stdout.write(`${table}\n${wd}\n`);
}

const SUBCOMMANDS = { up: [up, printUp], down: [down, printDown], status: [status, printStatus] } as const;

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("agents", argv, { dir: { type: "string" } }, help);
  if (!args) return 0;
  const [sub, ...extra] = args.positionals;
  if (sub === undefined) throw new UserError("agents: say up, down or status; see po agents --help");
  if (!Object.hasOwn(SUBCOMMANDS, sub))
    throw new UserError(`agents: unknown subcommand '${sub}' (up, down or status); see po agents --help`);
  if (extra.length) throw new UserError(`agents ${sub}: unexpected argument '${extra[0]}'`);
  const dir = resolve((args.values.dir as string | undefined) ?? process.cwd());
  if (!existsSync(dir)) throw new UserError(`agents: directory not found: ${dir}`);
  const [act, print] = SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS];
  const result = await act(dir);
  if (args.values.json) printJson(result);
  else (print as (r: typeof result) => void)(result);
  return 0;
}
