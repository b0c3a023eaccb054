// po init: scaffold a new fleet repository: fleet.toml, the orchestrator's own agents.toml and
// prompt (copied from the installed package), .gitignore, and the CI job that runs po validate.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseVerb, COMMON_HELP } from "./args.js";
import { gitMessage, gitRaw } from "../adapters/git.js";
import { printJson } from "./output.js";
import { UserError } from "../common/problems.js";

export const summary = "scaffold a new fleet repository in DIR (default .)";
const help = `Usage: po init [DIR] [--json]

Creates a fleet repository in DIR (default: the current folder, created when missing):
  fleet.toml                           version 1, one harness, a commented example project
  agents.toml, prompts/orchestrator.md  the orchestrator's own agent (po agents up runs it)
  .gitignore                           ignores .ao-state/ (po's lock, journal and logs)
  .forgejo/workflows/validate-fleet.yml CI: po validate on every push and pull request
fleet.toml and agents.toml point their #:schema line at this installation's schemas, for editors.
Refuses, changing nothing, when any of these files exists (an existing .gitignore only gets the
.ao-state/ line). Runs git init when DIR is not inside a git repository.

Options:
${COMMON_HELP}`;

/** The installed package's root: dist/src/cli/ is three levels below it. */
const PACKAGE = fileURLToPath(new URL("../../../", import.meta.url));

const fleetToml = (schema: string) => `#:schema ${schema}
# The fleet registry: the desired state of every project this orchestrator manages.
# Edit it, then \`po plan\` to see what would change and \`po apply\` to converge.
version = 1

# The agent harness. Each project pins it as a git submodule at engine/.
[harnesses.agent-orchestrator]
url = "https://git.autonomic.zone/recipe-maintainers/agent-orchestrator.git"
path = "engine"
up = ["python3", "engine/agents.py", "up"]
down = ["python3", "engine/agents.py", "down"]
session = "{dir}-{agent}"

# A project, kept commented out until this orchestrator manages a real one:
#
# [projects.my-project]
# location = "../my-project"     # absolute, ~/…, or relative to this file's folder
# harness = "agent-orchestrator"
# ref = "v0.1.0"                 # tag, branch or commit of the harness to pin
# enabled = true                 # true: its agents should run; false: they should not
# url = "https://example.org/me/my-project.git"   # optional: cloned from here when missing
`;

const CI = `# CI for this fleet repository on Forgejo (Gitea Actions reads the same file under .gitea/workflows/):
# every push and pull request must leave fleet.toml and agents.toml valid.
# Install po the way you installed it here (the npm package, a tarball or a git URL).
name: validate fleet
on:
  push:
  pull_request:
jobs:
  validate:
    runs-on: docker
    container:
      image: node:20-bookworm
    steps:
      - uses: actions/checkout@v4
      - run: npm install --global project-orchestrator
      - run: po validate fleet.toml agents.toml
`;

const FILES = ["fleet.toml", "agents.toml", "prompts/orchestrator.md", ".forgejo/workflows/validate-fleet.yml"];

function write(dir: string, file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text, { flag: "wx" });
}

async function insideRepository(dir: string): Promise<boolean> {
  return gitRaw(dir, ["rev-parse", "--git-dir"]).then(
    () => true,
    () => false,
  );
}

export async function run(argv: string[]): Promise<number> {
  const args = parseVerb("init", argv, {}, help, 1);
  if (!args) return 0;
  const dir = resolve(args.positionals[0] ?? ".");
  const present = FILES.filter((f) => existsSync(join(dir, f)));
  if (present.length)
    throw new UserError(`init: ${join(dir, present[0])} exists; po init writes only into a new fleet repository`);
  mkdirSync(dir, { recursive: true });
  const schema = (name: string) => join(PACKAGE, "schema", `${name}.schema.json`);
  const agents = readFileSync(join(PACKAGE, "agents.toml"), "utf8").replace(
    /^#:schema .*$/m,
    `#:schema ${schema("agents")}`,
  );
  write(dir, "fleet.toml", fleetToml(schema("fleet")));
  write(dir, "agents.toml", agents);
  mkdirSync(join(dir, "prompts"), { recursive: true });
  copyFileSync(join(PACKAGE, "prompts", "orchestrator.md"), join(dir, "prompts", "orchestrator.md"));
  write(dir, ".forgejo/workflows/validate-fleet.yml", CI);
  const ignore = join(dir, ".gitignore");
  const ignored = existsSync(ignore) ? readFileSync(ignore, "utf8") : "";
  if (!/^\/?\.ao-state\/?$/m.test(ignored))
    appendFileSync(ignore, `${ignored && !ignored.endsWith("\n") ? "\n" : ""}.ao-state/\n`);
  const repo = await insideRepository(dir);
  if (!repo)
    await gitRaw(dir, ["init", "--quiet"]).catch((e) => {
      throw new UserError(`init: git init in ${dir} failed: ${gitMessage(e)}`);
    });
  const made = [...FILES, ".gitignore"];
  if (args.values.json) printJson({ dir, files: made, gitInit: !repo });
  else
    process.stdout.write(
      `Created a fleet repository in ${dir}${repo ? "" : " (git init)"}: ${made.join(", ")}.\n` +
        `Next: add a project to fleet.toml (or po create NAME), then po validate and po plan.\n`,
    );
  return 0;
}
