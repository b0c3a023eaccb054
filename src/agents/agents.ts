// po agents up | down | status: runs the agents of one directory's agents.toml as tmux sessions,
// plus the heal watchdog (src/agents/watchdog.ts) when an agent has watch = "heal". This is the reference
// implementation of the harness contract (docs/harness-contract.md).
//
// What an agent gets: its `command` runs in tmux session `{dir}-{agent}` ({dir} is the directory's
// base name; '.' and ':' become '_', as tmux requires) with the directory as working directory and
// two environment variables:
//   PO_AGENT        the agent's name
//   PO_PROMPT_FILE  the absolute path of its `prompt` file (only when it has one)
// Everything the agent prints is appended to DIR/.ao-state/logs/AGENT.log.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "smol-toml";
import { AGENTS_FILE, requireAgents, type AgentsConfig } from "../registry/agents-file.js";
import { readJson } from "../state/state.js";
import { problemsError, UserError } from "../common/problems.js";
import { killSession, listSessionsCreated, liveSessionsOf, sessionName } from "../adapters/tmux.js";
import type { WatchdogState } from "./heal.js";
import { statePaths, startAgent } from "./session.js";
import { ensureWatchdog, isOurWatchdog, readPid, stopWatchdog } from "./watchdog-process.js";

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
  const live = await liveSessionsOf(
    dir,
    config.agents.map((a) => sessionName(dir, a.name)),
  );
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
  const live = await liveSessionsOf(
    dir,
    names.map((n) => sessionName(dir, n)),
  );
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
