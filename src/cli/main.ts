#!/usr/bin/env node
// po: the entry point. Verbs load lazily so that each command starts only what it needs.
import { createRequire } from "node:module";
import { UserError } from "../common/problems.js";

interface Verb {
  summary: string;
  run(argv: string[]): Promise<number>;
}

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
  agents: () => import("./agents.js"),
};

const HELP = `po — the project orchestrator: GitOps for a fleet of agent projects

Usage: po VERB [options]     (po VERB --help for a verb's options)

Every verb takes --fleet FILE (default ./fleet.toml, or $PO_FLEET) and --json, and respects NO_COLOR.
Exit codes: 0 success, 1 error (2: changes pending, with plan --detailed-exitcode).

Verbs:
`;

async function help(): Promise<void> {
  const rows = await Promise.all(
    Object.entries(VERBS).map(async ([name, load]) => `  ${name.padEnd(10)}${(await load()).summary}`),
  );
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
  return (await load()).run(rest);
}

function fail(e: unknown, json: boolean): number {
  // Scripts reading --json output get the error as data too; the operator's line stays on stderr.
  if (json && e instanceof UserError)
    process.stdout.write(`${JSON.stringify({ ok: false, error: e.message, problems: e.problems }, null, 2)}\n`);
  if (e instanceof UserError) process.stderr.write(e.problems.length ? `${e.message}\n` : `po: ${e.message}\n`);
  else if (process.env.PO_DEBUG) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  else process.stderr.write(`po: internal error: ${(e as Error)?.message ?? String(e)} (PO_DEBUG=1 shows the stack)\n`);
  return 1;
}

// po never waits on a prompt it cannot answer: a git that needs a password or a new SSH host key
// fails at once instead (git and ssh inherit this environment).
process.env.GIT_TERMINAL_PROMPT = "0";
process.env.GIT_SSH_COMMAND ??= "ssh -o BatchMode=yes";

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => (process.exitCode = fail(e, process.argv.includes("--json"))),
);
