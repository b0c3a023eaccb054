// A self-contained sandbox fleet: a local harness repository whose entry point runs `po agents`,
// used by `npm run demo` and by the integration tests. Nothing here touches the user's git
// config, home folder or tmux server: the caller hands in an isolated environment.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../cli/main.js");

/** Environment for a sandbox under `root`: its own git identity and config, its own tmux server. */
export function sandboxEnv(root: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base))
    if (!k.startsWith("GIT_") && !["TMUX", "TMUX_PANE", "PO_FLEET"].includes(k)) env[k] = v;
  const gitconfig = join(root, ".gitconfig");
  writeFileSync(
    gitconfig,
    "[user]\n\tname = po sandbox\n\temail = po-sandbox@example.invalid\n[init]\n\tdefaultBranch = " +
      "main\n[advice]\n\tdetachedHead = false\n",
  );
  mkdirSync(join(root, ".tmux"), { recursive: true });
  return { ...env, GIT_CONFIG_GLOBAL: gitconfig, GIT_CONFIG_NOSYSTEM: "1", TMUX_TMPDIR: join(root, ".tmux") };
}

export function gitIn(env: NodeJS.ProcessEnv): (cwd: string, ...args: string[]) => string {
  return (cwd, ...args) =>
    execFileSync("git", ["-c", "protocol.file.allow=always", ...args], {
      cwd,
      env,
      encoding: "utf8",
      timeout: 30_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
}

// `node engine/harness.mjs up|down|status`, run in a project: the reference runtime, `po agents`,
// does the work (status: its JSON lines are the harness status format).
const entry = (
  cli: string,
) => `// A tiny agent harness obeying po's harness contract: up, down and status delegate to \`po agents\`.
import { spawnSync } from "node:child_process";
const cli = process.env.PO_CLI || ${JSON.stringify(cli)};
const verb = process.argv[2] === "status" ? ["status", "--json"] : [process.argv[2]];
const r = spawnSync(process.execPath, [cli, "agents", ...verb], { stdio: "inherit" });
process.exit(r.status ?? 1);
`;

/**
 * A harness repository at `dir`: v0.1.0 (an annotated tag), v0.2.0 (a lightweight tag) and
 * branch main one commit ahead of both.
 */
export function makeHarnessRepo(dir: string, git: (cwd: string, ...args: string[]) => string, cli = CLI): void {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q");
  writeFileSync(join(dir, "harness.mjs"), entry(cli));
  const version = (v: string, message: string) => {
    writeFileSync(join(dir, "VERSION"), `${v}\n`);
    git(dir, "add", ".");
    git(dir, "commit", "-qm", message);
  };
  version("0.1.0", "harness 0.1.0");
  git(dir, "tag", "-a", "v0.1.0", "-m", "v0.1.0");
  version("0.2.0", "harness 0.2.0: faster agent start");
  git(dir, "tag", "v0.2.0");
  version("0.3.0-dev", "harness 0.3.0-dev");
}

export function harnessToml(name: string, url: string, extra = ""): string {
  return `[harnesses.${name}]
url = ${JSON.stringify(url)}
up = ["node", "engine/harness.mjs", "up"]
down = ["node", "engine/harness.mjs", "down"]
status = ["node", "engine/harness.mjs", "status"]
timeout_s = 30
${extra}`;
}
