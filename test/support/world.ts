// A disposable world for integration tests: a temp folder with its own HOME, git identity and
// config (never the user's), an isolated tmux server (TMUX_TMPDIR), a harness repository with
// tagged versions whose entry point calls `po agents`, and helpers to make projects and run po.
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../../src/cli.js");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface World {
  root: string;
  env: NodeJS.ProcessEnv;
  harnessUrl: string;
  git(cwd: string, ...args: string[]): string;
  po(args: string[], opts?: { cwd?: string; input?: string; timeoutMs?: number }): RunResult;
  sessions(): string[];
  tmux(...args: string[]): RunResult;
  cleanup(): void;
}

function isolatedEnv(root: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GIT_") || k === "TMUX" || k === "TMUX_PANE" || k === "PO_FLEET") delete env[k];
  const gitconfig = join(root, "gitconfig");
  writeFileSync(gitconfig, "[user]\n\tname = po test\n\temail = po-test@example.invalid\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n");
  mkdirSync(join(root, "home"));
  mkdirSync(join(root, "tmux"));
  return {
    ...env,
    HOME: join(root, "home"),
    GIT_CONFIG_GLOBAL: gitconfig,
    GIT_CONFIG_NOSYSTEM: "1",
    TMUX_TMPDIR: join(root, "tmux"),
    PO_CLI: CLI,
    NO_COLOR: "1",
    // git status must not refresh an index behind our back: plan is proven read-only byte for byte
    GIT_OPTIONAL_LOCKS: "0",
  };
}

// The harness entry point: `node engine/harness.mjs up|down` runs `po agents up|down` in the project.
const HARNESS_ENTRY = `import { spawnSync } from "node:child_process";
const verb = process.argv[2];
if (process.env.HARNESS_FAIL_UP && verb === "up" && process.cwd().endsWith(process.env.HARNESS_FAIL_UP)) {
  console.error("harness refuses to start");
  process.exit(3);
}
const r = spawnSync(process.execPath, [process.env.PO_CLI, "agents", verb], { stdio: "inherit" });
process.exit(r.status ?? 1);
`;

/** A harness repository: v0.1.0 (annotated tag), v0.2.0 (lightweight tag), branch main ahead of both. */
function makeHarness(w: Pick<World, "git">, dir: string): void {
  mkdirSync(dir);
  w.git(dir, "init", "-q");
  writeFileSync(join(dir, "harness.mjs"), HARNESS_ENTRY);
  writeFileSync(join(dir, "VERSION"), "0.1.0\n");
  w.git(dir, "add", ".");
  w.git(dir, "commit", "-qm", "harness 0.1.0");
  w.git(dir, "tag", "-a", "v0.1.0", "-m", "v0.1.0");
  writeFileSync(join(dir, "VERSION"), "0.2.0\n");
  w.git(dir, "commit", "-qam", "harness 0.2.0");
  w.git(dir, "tag", "v0.2.0");
  writeFileSync(join(dir, "VERSION"), "0.3.0-dev\n");
  w.git(dir, "commit", "-qam", "harness 0.3.0-dev");
}

export function makeWorld(prefix = "po-test-"): World {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const env = isolatedEnv(root);
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "protocol.file.allow=always", ...args], { cwd, env, encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"] });
  const harnessUrl = join(root, "harness");
  const w: World = {
    root,
    env,
    harnessUrl,
    git,
    po(args, opts = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? root, env, encoding: "utf8", input: opts.input ?? "", timeout: opts.timeoutMs ?? 60_000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    tmux(...args) {
      const r = spawnSync("tmux", args, { env, encoding: "utf8", timeout: 10_000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    sessions() {
      const r = w.tmux("list-sessions", "-F", "#{session_name}");
      return r.code === 0 ? r.stdout.split("\n").filter(Boolean).sort() : [];
    },
    cleanup() {
      w.tmux("kill-server");
      rmSync(root, { recursive: true, force: true });
    },
  };
  makeHarness(w, harnessUrl);
  return w;
}

export const AGENTS_TOML = (agents: string[]) =>
  agents.map((a) => `[agents.${a}]\ncommand = ["sleep", "3600"]\nwatch = "none"\n`).join("\n");

/** A project repository pinning the harness at `ref` in engine/, with the given agents. */
export function makeProject(w: World, name: string, ref: string, agents = ["a"]): string {
  const dir = join(w.root, name);
  mkdirSync(dir);
  w.git(dir, "init", "-q");
  w.git(dir, "submodule", "add", "-q", w.harnessUrl, "engine");
  w.git(join(dir, "engine"), "checkout", "-q", ref);
  writeFileSync(join(dir, "agents.toml"), AGENTS_TOML(agents));
  writeFileSync(join(dir, ".gitignore"), ".ao-state/\n");
  w.git(dir, "add", ".");
  w.git(dir, "commit", "-qm", `init ${name}`);
  return dir;
}

export interface FleetProject {
  ref: string;
  enabled?: boolean;
  url?: string;
  location?: string;
}

export function writeFleet(w: World, projects: Record<string, FleetProject>, extraHarness = ""): string {
  const file = join(w.root, "fleet.toml");
  const body = Object.entries(projects)
    .map(([n, p]) => `[projects.${n}]\nlocation = "${p.location ?? n}"\nharness = "h"\nref = "${p.ref}"\nenabled = ${p.enabled ?? true}\n${p.url ? `url = "${p.url}"\n` : ""}`)
    .join("\n");
  writeFileSync(
    file,
    `version = 1\n\n[harnesses.h]\nurl = "${w.harnessUrl}"\nup = ["node", "engine/harness.mjs", "up"]\ndown = ["node", "engine/harness.mjs", "down"]\ntimeout_s = 20\n${extraHarness}\n${body}`,
  );
  return file;
}

function fileHash(file: string): string {
  return existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : "absent";
}

/** Everything of a repository that a read-only command must not move, down to the index bytes. */
export function snapshot(w: World, dir: string): string {
  const parts = [
    fileHash(join(dir, ".git", "index")),
    fileHash(join(dir, ".git", "HEAD")),
    fileHash(join(dir, ".git", "modules", "engine", "index")),
    fileHash(join(dir, ".git", "modules", "engine", "HEAD")),
    w.git(dir, "rev-parse", "HEAD"),
    w.git(dir, "status", "--porcelain", "--untracked-files=all"),
    w.git(dir, "ls-files", "--stage"),
    w.git(dir, "submodule", "status"),
    w.git(join(dir, "engine"), "rev-parse", "HEAD"),
    w.git(join(dir, "engine"), "status", "--porcelain"),
  ];
  return parts.join("\n--\n");
}

/** Polls `cond` until it holds or `ms` pass. */
export async function until(cond: () => boolean, ms = 10_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
