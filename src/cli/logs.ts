// po logs: an agent's screen and scrollback (tmux capture-pane), followed live with --follow, or
// with --harness what the project's last harness up and down printed.
import { resolve } from "node:path";
import { parseVerb, wholeNumber, COMMON_HELP } from "./args.js";
import { agentSessions, notRunning, pickAgent, type AgentSession } from "./agent-sessions.js";
import { capturePane } from "../adapters/tmux.js";
import { printJson } from "./output.js";
import { UserError } from "../common/problems.js";
import { readHarnessLogs } from "../state/harness-log.js";
import { stateDir } from "../state/state.js";
import type { LogsOptions, SessionProject } from "../remote/protocol.js";
import { sessionOnHost } from "../remote/session.js";

export const summary = "show an agent's screen and scrollback, or the last harness output";
const help = `Usage: po logs NAME [AGENT] [--lines N] [--follow] [--harness] [--json]

Prints the screen and scrollback of each agent of project NAME (only AGENT's when given), as
tmux holds them: the last N lines. With --follow, keeps printing what appears, polling every half
second, until Ctrl-C or until the session ends. With --harness, prints instead what the
project's last harness up and down printed (kept by po apply and po restart in
.ao-state/harness/, the end of each). Says so, exit 1, when the project is not running.
For a project on another host, the po there does all this over ssh (at this terminal, ssh -t,
when stdin and stdout are one) and keeps its harness output in its own state folder.

Options:
  --lines N      lines of screen and scrollback to print (default 200)
  --follow, -f   keep printing new lines until Ctrl-C (one agent)
  --harness      the output of the project's last harness up and down
${COMMON_HELP}`;

const FOLLOW_EVERY_MS = 500;
/** logs of a project on another host, without --follow: one ssh call and a few tmux calls there */
const LOGS_TIMEOUT_MS = 120_000;

/** The pane's lines without the empty rows below the last line written. */
function lines(text: string): string[] {
  const all = text.split("\n");
  while (all.length && all.at(-1)!.trim() === "") all.pop();
  return all;
}

/** The lines of `now` that come after what `before` showed (all of them when nothing overlaps). */
export function newLines(before: string[], now: string[]): string[] {
  for (let skip = 0; skip < before.length; skip++) {
    const tail = before.slice(skip);
    if (tail.length <= now.length && tail.every((l, i) => l === now[i])) return now.slice(tail.length);
  }
  return now;
}

/** Prints what appears on the agent's screen until Ctrl-C, `ended`, or the end of its session. */
async function follow(s: AgentSession, first: string[], history: number, ended?: AbortSignal): Promise<number> {
  let stop = false;
  const onInt = () => (stop = true);
  process.on("SIGINT", onInt);
  try {
    let shown = first;
    while (!stop && !ended?.aborted) {
      await new Promise((r) => setTimeout(r, FOLLOW_EVERY_MS));
      const text = await capturePane(s.session, history);
      if (text === undefined) {
        process.stderr.write(`po: session ${s.session} ended\n`);
        return 0;
      }
      const now = lines(text);
      for (const l of newLines(shown, now)) process.stdout.write(`${l}\n`);
      shown = now;
    }
    return 0;
  } finally {
    process.off("SIGINT", onInt);
  }
}

function harnessLogs(project: SessionProject, agent: string | undefined, state: string, json: boolean): number {
  if (agent !== undefined) throw new UserError(`logs: --harness takes the project name only`);
  const logs = readHarnessLogs(state, project.name);
  if (json) printJson(logs);
  else if (!logs.length)
    throw new UserError(`logs: no harness output of ${project.name} is kept yet; po apply keeps the next one`);
  else for (const l of logs) process.stdout.write(`==> harness ${l.verb} (${l.file}) <==\n${l.text}`);
  return 0;
}

/**
 * po logs of a project on this machine (run here, or by the po of its host): `state` holds its
 * harness logs; `ended` (the caller went away) ends --follow as Ctrl-C does.
 */
export async function showLogs(
  project: SessionProject,
  agent: string | undefined,
  opts: LogsOptions,
  state: string,
  ended?: AbortSignal,
): Promise<number> {
  if (opts.harness) return harnessLogs(project, agent, state, opts.json);
  const sessions = await agentSessions(project, agent, "logs");
  const live = sessions.filter((s) => s.live);
  if (!live.length) throw notRunning(project, sessions);
  if (opts.follow && sessions.length > 1)
    throw new UserError(
      `logs: --follow follows one agent; say which: ` +
        sessions.map((s) => `po logs ${project.name} ${s.agent} --follow`).join(", "),
    );
  const dead = sessions.filter((s) => !s.live);
  if (dead.length) process.stderr.write(`po: ${notRunning(project, dead).message}\n`);
  const count = opts.lines;
  const screens = await Promise.all(
    live.map(async (s) => ({ ...s, lines: lines((await capturePane(s.session, count)) ?? "").slice(-count) })),
  );
  if (opts.json) printJson(screens);
  else
    for (const s of screens) {
      if (sessions.length > 1) process.stdout.write(`==> ${s.agent} (session ${s.session}) <==\n`);
      process.stdout.write(s.lines.map((l) => `${l}\n`).join(""));
    }
  return opts.follow ? follow(screens[0], screens[0].lines, count, ended) : 0;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "logs",
    argv,
    { lines: { type: "string" }, follow: { type: "boolean", short: "f" }, harness: { type: "boolean" } },
    help,
  );
  if (!args) return 0;
  const opts: LogsOptions = {
    lines: wholeNumber("logs", "lines", args.values.lines, 200),
    follow: Boolean(args.values.follow),
    harness: Boolean(args.values.harness),
    json: args.values.json,
  };
  const { fleet, project, agent, host } = await pickAgent(args.values.fleet, args.positionals, "logs");
  if (!host) return showLogs(project, agent, opts, stateDir(resolve(fleet.path)));
  // A terminal at both ends of ssh only when the operator watches: a pipe or file gets plain lines.
  const tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const timeoutMs = opts.follow ? undefined : LOGS_TIMEOUT_MS;
  return sessionOnHost(
    host,
    "logs",
    project,
    { ...(agent !== undefined ? { agent } : {}), logs: opts },
    { tty, timeoutMs },
  );
}
