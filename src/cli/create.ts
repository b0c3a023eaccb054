// po create NAME: a new project repository that pins the harness at REF and knows nothing of the
// orchestrator or the fleet; --register adds it to fleet.toml.
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync, type Stats } from "node:fs";
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
import { journal, stateDir } from "../state/state.js";
import { recordDone } from "../state/private.js";

interface Creation {
  name: string;
  location: string;
  h: HarnessSpec;
  ref: string;
  register(source: string): string;
}

/** --dry-run: what create would make and the fleet.toml diff; nothing is created or written. */
async function dryRun(values: Record<string, unknown>, c: Creation): Promise<number> {
  const state = stateDir(resolve(String(values.fleet)));
  const { commit, error } = await resolver(false, state).resolve(c.h, c.ref, undefined);
  if (!commit) throw new UserError(`create: ${error}; nothing was created`);
  const diff = values.register ? (await editFleet(String(values.fleet), c.register, false)).diff : "";
  if (values.json) printJson({ dryRun: true, name: c.name, location: c.location, ref: c.ref, commit, diff });
  else
    process.stdout.write(
      `Would create ${c.name} at ${c.location}: harness ${c.h.name} pinned at ${c.h.path}/ to ${c.ref} ` +
        `(${commit.slice(0, 7)}).\n${diff ? `\n${diff}\nThen po apply would start its agents.\n` : ""}`,
    );
  return values["detailed-exitcode"] ? 2 : 0;
}

export const summary = "scaffold a new project repository pinning a harness (--register adds it)";
const help = `Usage: po create NAME --ref REF [--harness H] [--location DIR] [--register] [--dry-run] [--json]

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
  --dry-run       say what would be created and show the fleet.toml diff; create and write nothing
  --detailed-exitcode  with --dry-run: exit 2 (a create always changes something)
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

/** What is at `path`, or undefined when nothing is (also when a folder on the way is a file). */
function lstatOr(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (e) {
    if (["ENOENT", "ENOTDIR"].includes((e as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw e;
  }
}

/**
 * The outermost folder of `location` that does not exist yet (what create makes, and so may remove
 * on failure), or undefined when `location` is an existing empty folder. Anything else there — a
 * file, a symlink (dangling or not), a folder with content — is refused before anything is made.
 */
function firstMissing(location: string): string | undefined {
  const there = lstatOr(location);
  if (there?.isSymbolicLink())
    throw new UserError(`create: ${location} is a symlink; choose another --location (nothing was changed)`);
  if (there && !there.isDirectory())
    throw new UserError(`create: ${location} is a file, not a folder; choose another --location (nothing was changed)`);
  if (there && readdirSync(location).length)
    throw new UserError(`create: ${location} is not empty; choose another --location (nothing was changed)`);
  if (there) return undefined;
  let missing = location;
  for (let up = dirname(missing); up !== missing; missing = up, up = dirname(up)) {
    const parent = lstatOr(up);
    if (!parent) continue;
    // a symlinked parent folder is the operator's: create below it, never remove it
    if (parent.isDirectory() || parent.isSymbolicLink()) return missing;
    throw new UserError(`create: ${up} is a file, not a folder; choose another --location (nothing was changed)`);
  }
  return missing;
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
      "dry-run": { type: "boolean" },
      "detailed-exitcode": { type: "boolean" },
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
  const made = firstMissing(location);
  const rel = relative(dirname(fleet.path), location) || ".";
  const table = { location: rel, harness: h.name, ref, enabled: true };
  const register = (s: string) => addTable(s, ["projects", name], table);
  if (args.values["dry-run"]) return dryRun(args.values, { name, location, h, ref, register });
  let sha: string;
  try {
    sha = await scaffold(location, name, h, ref);
  } catch (e) {
    // Only what this command made is removed: the folders it created, or what it put in an empty one.
    if (made) rmSync(made, { recursive: true, force: true });
    else for (const f of readdirSync(location)) rmSync(join(location, f), { recursive: true, force: true });
    if (e instanceof UserError) throw e;
    throw new UserError(`create: ${gitMessage(e)}; nothing was kept`);
  }
  let diff = "";
  if (args.values.register) {
    diff = (await editFleet(fleet.path, register)).diff;
  }
  const changes = args.values.register ? Object.entries(table).map(([key, v]) => ({ project: name, key, new: v })) : [];
  recordDone(`created ${name} at ${location}${args.values.register ? " and registered it in fleet.toml" : ""}`, () =>
    journal(stateDir(fleet.path), { plan: "", event: "create", project: name, ref, to: sha, changes }),
  );
  if (args.values.json)
    printJson({ name, location, harness: h.name, ref, commit: sha, registered: Boolean(args.values.register) });
  else
    process.stdout.write(
      `Created ${name} at ${location}: harness ${h.name} pinned at ${h.path}/ to ${ref} ` +
        `(${sha.slice(0, 7)}).\n${diff ? `\n${diff}` : ""}`,
    );
  return 0;
}
