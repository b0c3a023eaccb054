// The heal watchdog of `po agents`: `node dist/src/agents/watchdog.js DIR`, started detached by
// `po agents up` (src/agents/watchdog-process.ts). It is the system's only loop and it only recovers
// the dead: every interval_s it lists the live tmux sessions (one call) and restarts each agent with
// watch = "heal" whose session is gone. It never sends input to a live agent, never touches a
// watch = "none" agent, and never wakes anything.
//
// It re-reads agents.toml on every check (so edits apply without a restart) and ends when the file
// is gone or has no heal agent left, on SIGTERM (`po agents down`), or when its pid file names
// another process. Log: DIR/.ao-state/logs/watchdog.log (its stdout, opened by po agents up);
// restart counts: DIR/.ao-state/agents.json.
import { existsSync, realpathSync, rmSync, writeSync } from "node:fs";
import { basename, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENTS_FILE, loadAgents, type AgentsConfig, type AgentSpec } from "../registry/agents-file.js";
import { formatProblem } from "../common/problems.js";
import { createPrivate, writePrivate } from "../state/private.js";
import { readJson } from "../state/state.js";
import { notify } from "../common/notify.js";
import { listSessions, sessionName } from "../adapters/tmux.js";
import { onAlive, onDead, onStarted, quickWindowMs, secs, type HealRecord, type WatchdogState } from "./heal.js";
import { agentLogTail, exitFile, lastUp, startAgent, statePaths } from "./session.js";
import { isOurWatchdog, readPid } from "./watchdog-process.js";

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

interface Ctx {
  dir: string;
  paths: ReturnType<typeof statePaths>;
  config?: AgentsConfig;
  records: Record<string, HealRecord>;
  /** the agents it gave up on: their last exit status and log lines */
  failed: Record<string, { exitStatus: number | null; lastLines: string[] }>;
  started: number;
  lastCheck?: number;
  checks: number;
  lastProblem?: string;
  stopping?: string;
  wake?: () => void;
}

/** A line of the log; a full disk loses the line, never the watchdog (the healing goes on). */
function log(message: string): void {
  try {
    writeSync(process.stdout.fd, `${new Date().toISOString()} ${message}\n`);
  } catch {
    // nowhere left to say it
  }
}

function saveState(ctx: Ctx): void {
  const agents = Object.fromEntries(
    Object.entries(ctx.records).map(([name, r]) => [
      name,
      {
        restarts: r.restarts,
        lastStart: iso(r.lastStart),
        quickDeaths: r.quickDeaths,
        nextAttempt: iso(r.nextAttempt),
        deadSince: iso(r.deadSince),
        failed: r.failedSince === undefined ? null : { since: iso(r.failedSince)!, ...ctx.failed[name] },
      },
    ]),
  );
  const state: WatchdogState = {
    format: "po-watchdog-state/1",
    pid: process.pid,
    started: iso(ctx.started)!,
    lastCheck: iso(ctx.lastCheck),
    checks: ctx.checks,
    agents,
  };
  // atomically: `status` never reads half a file; one that cannot be written (a full disk) stops no healing
  try {
    writePrivate(ctx.paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  } catch (e) {
    log(`${(e as Error).message}; agents.json is behind until it can be written`);
  }
}

// ---- one check ----

async function healOne(ctx: Ctx, agent: AgentSpec, live: boolean, now: number, intervalMs: number): Promise<void> {
  // own keys only: an agent named `constructor` has no record yet, not Object's constructor
  const rec = (Object.hasOwn(ctx.records, agent.name) ? ctx.records[agent.name] : undefined) ?? {
    restarts: 0,
    quickDeaths: 0,
  };
  if (live) {
    const next = onAlive(rec, now, intervalMs);
    if (rec.quickDeaths > 0 && next.quickDeaths === 0)
      log(`stable ${agent.name}: running for more than ${secs(quickWindowMs(intervalMs))}, back-off reset`);
    ctx.records[agent.name] = next;
    return;
  }
  const { maxRestarts, restartWindowS } = ctx.config!;
  const step = onDead(rec, now, intervalMs, { maxRestarts, windowMs: restartWindowS * 1000 });
  ctx.records[agent.name] = step.rec;
  if (step.action === "wait") return;
  const session = sessionName(ctx.dir, agent.name);
  if (step.action === "fail") return giveUp(ctx, agent.name, step.reason);
  if (step.action === "backoff") {
    log(
      `back-off ${agent.name} (session ${session}): ${step.reason}; next attempt in ` +
        `${secs(step.delayMs)} at ${iso(step.rec.nextAttempt)}`,
    );
    return;
  }
  try {
    if (!(await startAgent(ctx.dir, agent, `restarted by the heal watchdog: ${step.reason}`))) {
      log(`skip ${agent.name}: session ${session} was started meanwhile by someone else`);
      return;
    }
    ctx.records[agent.name] = onStarted(step.rec, now);
    log(`restart ${agent.name} (session ${session}): ${step.reason}; restart #${ctx.records[agent.name].restarts}`);
  } catch (e) {
    log(`error restarting ${agent.name} (session ${session}): ${(e as Error).message}; will retry`);
  }
}

/** Marks the agent failed, with why, and tells notify once; po agents up (or a start by apply) resets it. */
async function giveUp(ctx: Ctx, name: string, reason: string): Promise<void> {
  // the exit status its session's shell wrote ("3\n" reads as JSON)
  const status = readJson<unknown>(exitFile(ctx.dir, name), null);
  const exitStatus = typeof status === "number" ? status : null;
  const failed = { exitStatus, lastLines: agentLogTail(ctx.dir, name) };
  ctx.failed[name] = failed;
  const exit = failed.exitStatus === null ? "" : `; last exit status ${failed.exitStatus}`;
  const detail = `${reason}${exit}; its log ends: ${failed.lastLines.join(" | ") || "(empty)"}`;
  log(`give up ${name}: ${detail}; not restarted until po agents up`);
  saveState(ctx);
  if (!ctx.config?.notify) return;
  const event = { event: "agent.failed" as const, project: basename(ctx.dir), agent: name, detail };
  const problem = await notify(ctx.config.notify, event, ctx.dir);
  if (problem) log(`${problem} (agent.failed of ${name})`);
}

/** po agents up ran since the watchdog gave up on an agent: it may be restarted again, from a clean slate. */
function resetAfterUp(ctx: Ctx): void {
  const upAt = lastUp(ctx.dir);
  for (const [name, rec] of Object.entries(ctx.records)) {
    if (rec.failedSince === undefined || !(upAt > rec.failedSince)) continue;
    ctx.records[name] = { restarts: rec.restarts, quickDeaths: 0 };
    delete ctx.failed[name];
    log(`reset ${name}: po agents up ran since it was given up on`);
  }
}

/** Refreshes ctx.config from agents.toml; returns why the watchdog should end, if it should. */
async function reload(ctx: Ctx): Promise<string | undefined> {
  const file = ctx.config?.file ?? resolve(ctx.dir, AGENTS_FILE);
  if (!existsSync(file)) return `${file} is gone`;
  const { config, problems } = await loadAgents(ctx.dir);
  if (config) ctx.config = config;
  const problem = problems.map(formatProblem).join("; ");
  // An operator mid-edit should not stop the healing: keep the last good file, say so once.
  if (problem && problem !== ctx.lastProblem)
    log(`agents.toml has problems, keeping the last good version: ${problem}`);
  ctx.lastProblem = problem || undefined;
  if (!ctx.config) return `agents.toml was never valid: ${problem}`;
  if (!ctx.config.agents.some((a) => a.watch === "heal"))
    return 'agents.toml has no agent with watch = "heal" any more';
  return undefined;
}

async function check(ctx: Ctx): Promise<string | undefined> {
  const now = Date.now();
  if (readPid(ctx.paths.pidFile) !== process.pid) return "its pid file names another process (or is gone)";
  const end = await reload(ctx);
  if (end) return end;
  const intervalMs = ctx.config!.intervalS * 1000;
  resetAfterUp(ctx);
  let live: Set<string>;
  try {
    live = await listSessions();
  } catch (e) {
    log(`tmux error, will retry at the next check: ${(e as Error).message}`);
    return undefined;
  }
  for (const agent of ctx.config!.agents.filter((a) => a.watch === "heal")) {
    if (ctx.stopping) break;
    await healOne(ctx, agent, live.has(sessionName(ctx.dir, agent.name)), now, intervalMs);
  }
  ctx.lastCheck = now;
  ctx.checks++;
  saveState(ctx);
  return undefined;
}

// ---- the process ----

/** Creates the pid file; false when another live watchdog of this directory holds it. */
function claimPidFile(ctx: Ctx): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createPrivate(ctx.paths.pidFile, `${process.pid}\n`)) return true;
    const other = readPid(ctx.paths.pidFile);
    if (other !== undefined && other !== process.pid && isOurWatchdog(other, ctx.dir)) return false;
    rmSync(ctx.paths.pidFile, { force: true }); // stale: its process is gone
  }
  return false;
}

function sleep(ctx: Ctx, ms: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(done, ms);
    ctx.wake = () => {
      clearTimeout(timer);
      done();
    };
  });
}

export async function main(dir: string): Promise<number> {
  const ctx: Ctx = { dir, paths: statePaths(dir), records: {}, failed: {}, started: Date.now(), checks: 0 };
  if (!claimPidFile(ctx)) {
    log(`watchdog ${process.pid} not started: watchdog ${readPid(ctx.paths.pidFile)} is already running for ${dir}`);
    return 0;
  }
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
    process.on(signal, () => {
      ctx.stopping = signal;
      ctx.wake?.();
    });
  }
  log(`watchdog ${process.pid} started for ${dir}`);
  let end: string | undefined;
  while (!ctx.stopping && !end) {
    try {
      end = await check(ctx);
    } catch (e) {
      log(`check failed, will retry: ${(e as Error).message}`); // e.g. a full disk: keep going
    }
    if (!ctx.stopping && !end) await sleep(ctx, (ctx.config?.intervalS ?? 30) * 1000);
  }
  if (readPid(ctx.paths.pidFile) === process.pid) rmSync(ctx.paths.pidFile, { force: true });
  log(`watchdog ${process.pid} stopped: ${ctx.stopping ? `received ${ctx.stopping}` : end}`);
  return 0;
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: node watchdog.js DIR (started by po agents up)\n");
    process.exit(2);
  }
  main(resolve(dir)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${new Date().toISOString()} watchdog crashed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
