// po create NAME: a new project repository that pins the harness at REF and knows nothing of the
// orchestrator or the fleet; --register adds it to fleet.toml.
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { HarnessSpec } from "../../reconcile/model.js";
import { parseVerb, COMMON_HELP } from "./args.js";
import { addTable, editFleet } from "../registry/edit-fleet.js";
import { harnessSpec, requireFleet } from "../registry/fleet.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { refProblem } from "../registry/gitref.js";
import { printJson } from "./output.js";
import { resolver } from "../observe/resolve-ref.js";
import { UserError } from "../common/problems.js";
import { didYouMean } from "../common/suggest.js";

export const summary = "scaffold a new project repository pinning a harness (--register adds it)";
const help = `Usage: po create NAME --ref REF [--harness H] [--location DIR] [--register] [--json]

Creates a git repository at DIR (default: NAME beside the folder of fleet.toml) with the harness H
(default: the only harness of fleet.toml) added as a submodule at its path and checked out at REF,
an agents.toml with one agent and its prompt under prompts/, a .gitignore and a README, in one
initial commit. The project contains nothing about the orchestrator or the fleet. DIR must be
missing or empty.

Options:
  --ref REF       tag, branch or commit of the harness to pin (required)
  --harness H     a harness declared in fleet.toml
  --location DIR  where to create the project (relative to the current folder)
  --register      add [projects.NAME] to fleet.toml (comments kept, diff shown)
${COMMON_HELP}`;

const NAME = /^[a-z0-9][a-z0-9._-]*$/;

function files(name: string, h: HarnessSpec): Record<string, string> {
  return {
    "agents.toml": `# The agents of ${name}. Each runs in its own tmux session, started by the harness at ${h.path}/.

[agents.main]
command = ["claude", "--append-system-prompt", "{prompt_text}"]   # {prompt_text}: the text of prompt
prompt = "prompts/main.md"
watch = "heal"   # restarted if its session dies; never woken on a timer
`,
    "prompts/main.md": `# ${name}: the main agent\n\nDescribe this agent's role, its goals and how it works here.\n`,
    ".gitignore": ".ao-state/\n",
    "README.md":
      `# ${name}\n\nAn agent project. Its agents are listed in \`agents.toml\` and run by the agent harness ` +
      `pinned\nas a git submodule at \`${h.path}/\`; each agent's role is in \`prompts/\`.\n`,
  };
}

function pickHarness(harnesses: Map<string, HarnessSpec>, wanted: string | undefined): HarnessSpec {
  if (wanted) {
    const h = harnesses.get(wanted);
    if (!h)
      throw new UserError(
        `create: harness '${wanted}' is not declared in fleet.toml${didYouMean(wanted, harnesses.keys())}`,
      );
    return h;
  }
  if (harnesses.size !== 1)
    throw new UserError(`create: fleet.toml declares ${harnesses.size} harnesses; choose one with --harness`);
  return [...harnesses.values()][0];
}

/** Checks out REF in the new submodule, resolved from its own refs as po plan would (offline). */
async function checkoutRef(sub: string, h: HarnessSpec, ref: string): Promise<string> {
  const { commit } = await resolver(true).resolve(h, ref, sub);
  if (!commit) throw new UserError(`create: unknown ref '${ref}' of the harness; nothing was kept`);
  await gitRaw(sub, ["checkout", "--quiet", "--detach", commit]);
  return commit;
}

async function scaffold(location: string, name: string, h: HarnessSpec, ref: string): Promise<string> {
  mkdirSync(location, { recursive: true });
  await gitRaw(location, ["init", "--quiet"]);
  await gitRaw(location, ["submodule", "add", "--quiet", "--", h.url, h.path], true);
  const sha = await checkoutRef(join(location, h.path), h, ref);
  for (const [file, text] of Object.entries(files(name, h))) {
    mkdirSync(dirname(join(location, file)), { recursive: true });
    writeFileSync(join(location, file), text);
  }
  await gitRaw(location, ["add", "--all"]);
  await gitRaw(location, [
    "commit",
    "--quiet",
    "-m",
    `Create ${name}\n\nAgents in agents.toml; harness ${h.name} pinned at ${h.path}/ to ${ref} (${sha.slice(0, 7)}).`,
  ]);
  return sha;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb(
    "create",
    argv,
    {
      ref: { type: "string" },
      harness: { type: "string" },
      location: { type: "string" },
      register: { type: "boolean" },
    },
    help,
  );
  if (!args) return 0;
  const [name, ...extra] = args.positionals;
  if (!name || extra.length) throw new UserError("create takes one project name; see po create --help");
  if (!NAME.test(name))
    throw new UserError(
      `create: invalid project name '${name}': use lowercase letters, digits, '.', '_' and '-', ` +
        `starting with a letter or digit`,
    );
  const ref = args.values.ref as string | undefined;
  if (!ref) throw new UserError("create: --ref REF is required (a tag, branch or commit of the harness)");
  const bad = refProblem(ref);
  if (bad) throw new UserError(`create: invalid ref '${ref}': ${bad}`);
  const { fleet, raw } = await requireFleet(args.values.fleet);
  if (args.values.register && raw.projects?.[name])
    throw new UserError(`create: project '${name}' is already in ${fleet.path}`);
  const harnesses = new Map(Object.entries(raw.harnesses ?? {}).map(([n, h]) => [n, harnessSpec(n, h)]));
  const h = pickHarness(harnesses, args.values.harness as string | undefined);
  const location = resolve(String(args.values.location ?? join(dirname(fleet.path), "..", name)));
  const fresh = !existsSync(location);
  if (!fresh && readdirSync(location).length)
    throw new UserError(`create: ${location} is not empty; choose another --location (nothing was changed)`);
  let sha: string;
  try {
    sha = await scaffold(location, name, h, ref);
  } catch (e) {
    // Only what this command made is removed: the folder was missing or empty before.
    if (fresh) rmSync(location, { recursive: true, force: true });
    else for (const f of readdirSync(location)) rmSync(join(location, f), { recursive: true, force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`create: ${gitMessage(e)}; nothing was kept`);
  }
  let diff = "";
  if (args.values.register) {
    const rel = relative(dirname(fleet.path), location) || ".";
    diff = (
      await editFleet(fleet.path, (s) =>
        addTable(s, ["projects", name], { location: rel, harness: h.name, ref, enabled: true }),
      )
    ).diff;
  }
  if (args.values.json)
    printJson({ name, location, harness: h.name, ref, commit: sha, registered: Boolean(args.values.register) });
  else
    process.stdout.write(
      `Created ${name} at ${location}: harness ${h.name} pinned at ${h.path}/ to ${ref} ` +
        `(${sha.slice(0, 7)}).\n${diff ? `\n${diff}` : ""}`,
    );
  return 0;
}
