#!/usr/bin/env node
// po: the entry point. Verbs load lazily so that each command starts only what it needs.
import { createRequire } from "node:module";
import { UserError } from "../common/problems.js";
import { guardOutput } from "./output.js";
import { helpText, usageLine, type Verb } from "./verb-help.js";

const VERBS: Record<string, () => Promise<Verb>> = {
  validate: () => import("./validate.js"),
  list: () => import("./list.js"),
  get: () => import("./get.js"),
  status: () => import("./status.js"),
  plan: () => import("./plan.js"),
  apply: () => import("./apply.js"),
  create: () => import("./create.js"),
  start: () => import("./start.js"),
  stop: () => import("./stop.js"),
  update: () => import("./update.js"),
  import: () => import("./import.js"),
  forget: () => import("./forget.js"),
  outdated: () => import("./outdated.js"),
  agents: () => import("./agents.js"),
  init: () => import("./init.js"),
  logs: () => import("./logs.js"),
  attach: () => import("./attach.js"),
  restart: () => import("./restart.js"),
  history: () => import("./history.js"),
  show: () => import("./show.js"),
  completion: () => import("./completion.js"),
  hosts: () => import("./hosts.js"),
  remote: () => import("./remote.js"),
};

const HELP = `po — the project orchestrator: GitOps for a fleet of agent projects

Usage: po VERB [options]     (po VERB --help for a verb's options)

Every verb takes --fleet FILE (default ./fleet.toml, or $PO_FLEET) and --json, and respects NO_COLOR.
Exit codes: 0 success, 1 error (2: changes pending or drift, with plan and status --detailed-exitcode).

Commands:
`;

/** Each verb's usage line, exactly as its --help has it, and what it does. */
async function help(): Promise<void> {
  const rows: string[] = [];
  for (const load of Object.values(VERBS)) {
    const verb = await load();
    rows.push(`  po ${usageLine(await helpText(verb))}`, `      ${verb.summary}`);
  }
  process.stdout.write(`${HELP}${rows.join("\n")}\n`);
}

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === "--version" || verb === "-V") {
    process.stdout.write(`${createRequire(import.meta.url)("../../../package.json").version}\n`);
    return 0;
  }
  if (verb === "help" && rest.length) return main([rest[0]!, "--help"]);
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    await help();
    return verb === undefined ? 1 : 0;
  }
  if (verb.startsWith("-"))
    throw new UserError(`unknown option '${verb}'; po --help lists the verbs and their options`);
  const load = Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
  if (!load) {
    const { didYouMean } = await import("../common/suggest.js");
    throw new UserError(`unknown verb '${verb}'${didYouMean(verb, Object.keys(VERBS))}; po --help lists them`);
  }
  return (await load()).run(rest, VERBS);
}

/** A system error (ENOSPC, EACCES, EROFS, …) in one line: what po could not do, to which file, and why. */
function systemLine(e: NodeJS.ErrnoException): string | undefined {
  if (typeof e?.code !== "string" || !/^E[A-Z]+$/.test(e.code)) return undefined;
  const what = e.syscall ? `${e.syscall}${e.path ? ` ${e.path}` : ""}` : "a file operation";
  const why = (e.message.split(/: /).slice(1).join(": ") || e.message).replace(/, [a-z]+ '.*'$/, "");
  return `${what} failed: ${why}; nothing after that point was done (check the disk, the path and its permissions)`;
}

function fail(e: unknown, json: boolean): number {
  // Scripts reading --json output get the error as data too; the operator's line stays on stderr.
  if (json && e instanceof UserError)
    process.stdout.write(`${JSON.stringify({ ok: false, error: e.message, problems: e.problems }, null, 2)}\n`);
  const system = systemLine(e as NodeJS.ErrnoException);
  if (e instanceof UserError) process.stderr.write(e.problems.length ? `${e.message}\n` : `po: ${e.message}\n`);
  else if (process.env.PO_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  else if (system) process.stderr.write(`po: ${system}\n`);
  else process.stderr.write(`po: internal error: ${(e as Error)?.message ?? String(e)} (PO_DEBUG=1 shows the stack)\n`);
  return 1;
}

// A reader that stops reading (po list | head -1) closes our pipe: po then writes nothing more and
// finishes what it is doing (an apply completes its running actions, journals and releases its
// lock), instead of dying on EPIPE halfway.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

// po never waits on a prompt it cannot answer: a git that needs a password or a new SSH host key
// fails at once instead (git and ssh inherit this environment).
process.env.GIT_TERMINAL_PROMPT = "0";
process.env.GIT_SSH_COMMAND ??= "ssh -o BatchMode=yes";

guardOutput(process.argv.includes("--json"));

function currentFolder(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

const start = currentFolder()
  ? main(process.argv.slice(2))
  : Promise.reject(new UserError("the current folder no longer exists; cd to a folder that exists and run po again"));
// po exits once its summary is out: a process it started and left running (a harness's daemon, a
// git hook's child) may hold a pipe or a timer, and must not keep po itself alive.
start.then(exitFlushed, (e) => exitFlushed(fail(e, process.argv.includes("--json"))));

/** Exits once what po wrote has reached its readers (a pipe takes only 64 KiB at once). */
function exitFlushed(code: number): void {
  let pending = 2;
  const done = () => --pending || process.exit(code);
  for (const stream of [process.stdout, process.stderr]) stream.write("", done);
}
