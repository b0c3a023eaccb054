// po agents up | down | status: the verb; the runtime itself is in src/agents/.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { COMMON_HELP, parseVerb } from "./args.js";
import { columns, printJson } from "./output.js";
import { UserError } from "../common/problems.js";
import { down, status, up, type DownResult, type StatusResult, type UpResult } from "../agents/agents.js";

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
