// A disposable world for integration tests: a temp folder with its own HOME, git identity and
// config (never the user's), an isolated tmux server (TMUX_TMPDIR), a harness repository with
// tagged versions whose entry point calls `po agents`, and helpers to make projects and run po.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pollUntil } from "../../src/common/poll.js";
import { shellQuote } from "../../src/adapters/tmux.js";
import { CLI, gitIn, harnessToml, makeHarnessRepo, sandboxEnv } from "../../src/sandbox/sandbox.js";

export { CLI };

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
  po(args: string[], opts?: { cwd?: string; input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): RunResult;
  sessions(): string[];
  tmux(...args: string[]): RunResult;
  cleanup(): void;
}

// What tmux says when no server runs (never started, or its last session ended): then there is no
// session. Any other failure of tmux is an error, never "no session".
export const NO_TMUX_SERVER =
  /^(no server running on |error connecting to .*\(No such file or directory\)|server exited unexpectedly)/m;

// A harness timeout for tests whose start is meant to fail: the start waits this long for a session
// that never comes, and the same bound must fit the real `down` that undoes it (two node processes
// and the watchdog's stop) on a loaded CI machine, where 3 s once proved too short.
export const FAILING_START_TIMEOUT_S = 8;

export function makeWorld(prefix = "po-test-"): World {
  const root = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(root, "home"));
  // git status must not refresh an index behind our back: plan is proven read-only byte for byte.
  const env = { ...sandboxEnv(root), HOME: join(root, "home"), NO_COLOR: "1", GIT_OPTIONAL_LOCKS: "0" };
  const git = gitIn(env);
  const harnessUrl = join(root, "harness");
  const w: World = {
    root,
    env,
    harnessUrl,
    git,
    po(args, opts = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        cwd: opts.cwd ?? root,
        env: opts.env ?? env,
        encoding: "utf8",
        input: opts.input ?? "",
        timeout: opts.timeoutMs ?? 60_000,
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    tmux(...args) {
      const r = spawnSync("tmux", args, { env, encoding: "utf8", timeout: 10_000 });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    sessions() {
      const r = w.tmux("list-sessions", "-F", "#{session_name}");
      if (r.code === 0) return r.stdout.split("\n").filter(Boolean).sort();
      if (NO_TMUX_SERVER.test(r.stderr)) return [];
      throw new Error(`tmux list-sessions failed (exit ${r.code}): ${r.stderr.trim()}`);
    },
    cleanup() {
      w.tmux("kill-server");
      rmSync(root, { recursive: true, force: true });
    },
  };
  makeHarnessRepo(harnessUrl, git);
  return w;
}

export const AGENTS_TOML = (agents: string[]) =>
  agents.map((a) => `[agents.${a}]\ncommand = ["sleep", "3600"]\nwatch = "none"\n`).join("\n");

/** A plain folder (no repository) with `agents.toml` and nothing else, for po agents. */
export function agentsFolder(w: World, toml: string, name = "p"): string {
  const dir = join(w.root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "agents.toml"), toml);
  return dir;
}

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

/** A project of fleet.toml: at root/NAME unless `location`, on the world's harness `h` unless `harness`. */
export interface FleetProject {
  ref: string;
  enabled?: boolean;
  url?: string;
  location?: string;
  harness?: string;
}

/** A harness besides `h`: the world's harness repository and entry point unless told otherwise. */
export interface HarnessDef {
  url?: string;
  up?: string[];
  down?: string[];
  timeout_s?: number;
}

const toml = (v: unknown) => JSON.stringify(v);

/**
 * The one fleet.toml writer: the world's harness `h` (with `extraHarness`, TOML lines added to its
 * table) plus `harnesses`, and the projects.
 */
export function writeFleet(
  w: World,
  projects: Record<string, FleetProject>,
  harnesses: Record<string, HarnessDef> = {},
  extraHarness = "",
): string {
  const extra = Object.entries(harnesses).map(([name, h]) =>
    [
      `[harnesses.${name}]`,
      `url = ${toml(h.url ?? w.harnessUrl)}`,
      `up = ${toml(h.up ?? ["node", "engine/harness.mjs", "up"])}`,
      `down = ${toml(h.down ?? ["node", "engine/harness.mjs", "down"])}`,
      `timeout_s = ${h.timeout_s ?? 30}`,
    ].join("\n"),
  );
  const body = Object.entries(projects).map(([n, p]) =>
    [
      `[projects.${n}]`,
      `location = ${toml(p.location ?? n)}`,
      `harness = ${toml(p.harness ?? "h")}`,
      `ref = ${toml(p.ref)}`,
      `enabled = ${p.enabled ?? true}`,
      ...(p.url ? [`url = ${toml(p.url)}`] : []),
    ].join("\n"),
  );
  const file = join(w.root, "fleet.toml");
  const parts = [harnessToml("h", w.harnessUrl, extraHarness), ...extra, ...body];
  writeFileSync(file, `version = 1\n\n${parts.map((x) => x.trimEnd() + "\n").join("\n")}`);
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

/** The JSON in `file`, or undefined while it does not exist; unreadable or not JSON throws (po writes it atomically). */
export function jsonIfPresent<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  return JSON.parse(text) as T;
}

/** The one way a test waits: polls `cond` until it holds; fails naming `what` when `ms` pass first. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  if (!(await pollUntil(cond, ms))) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The pid of the (first) pane of `session`: unchanged means the agent was not restarted. */
export function panePid(w: World, session: string): string {
  return w.tmux("list-panes", "-t", `=${session}`, "-F", "#{pane_pid}").stdout.trim();
}

/**
 * Runs po in a new pane `name` of the world's tmux server, i.e. at a real terminal; the pane shows
 * `[exit N]` when po ends. NO_COLOR stays set unless `color`. The shell survives a Ctrl-C (a trap,
 * not an ignore, so po still gets it) to report po's exit.
 */
export function poInPane(w: World, name: string, args: string[], color = false): void {
  const cmd = `trap : INT; ${color ? "unset NO_COLOR; " : ""}cd ${shellQuote(w.root)} && ${[process.execPath, CLI, ...args].map(shellQuote).join(" ")}; echo "[exit $?]"; sleep 60`;
  const r = w.tmux("new-session", "-d", "-s", name, "-x", "200", "-y", "50", "sh", "-c", cmd);
  if (r.code !== 0) throw new Error(`tmux new-session ${name}: ${r.stderr}`);
}

/** What pane `name` shows (with its colour escapes when `escapes`). */
export function screen(w: World, name: string, escapes = false): string {
  return w.tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", `=${name}:`).stdout;
}

/** Fails when `text` holds a stack trace or an internal error: what an operator sees is never that. */
export function noStackTrace(text: string, what = "output"): void {
  if (/^\s+at /m.test(text) || /internal error|node:internal|TypeError|ReferenceError/.test(text))
    throw new Error(`${what}: a stack trace or an internal error:\n${text}`);
}

/** The one-line error contract: exactly one line on stderr, no stack trace; returns that line. */
export function oneLine(stderr: string): string {
  noStackTrace(stderr, "stderr");
  const lines = stderr.trim().split("\n");
  if (lines.length !== 1 || lines[0] === "") throw new Error(`expected one error line, got:\n${stderr}`);
  return lines[0]!;
}
