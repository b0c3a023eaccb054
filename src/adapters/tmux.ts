// The tmux adapter: every call is `tmux` found on PATH, run with an argv array (never a shell) and a
// timeout. tmux picks its server the ordinary way ($TMUX, else $TMUX_TMPDIR/tmux-UID/default), so a
// test that sets TMUX_TMPDIR (and unsets TMUX) talks to a server of its own.
//
// node:child_process rather than execa here: loading execa costs ~100 ms, more than everything
// else `po plan` does for a hundred projects, and these calls need nothing of what execa adds.
//
// Targets are written `=NAME`: without the `=`, tmux falls back to prefix matching, and asking for
// `crew-a` would find `crew-ab`.
import { execFile } from "node:child_process";
import { existsSync, realpathSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { UserError } from "../common/problems.js";
import { alive } from "./process-group.js";

export const TMUX_TIMEOUT_MS = 10_000;

interface TmuxResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/**
 * tmux reads an argument ending in ';' as the end of a command: a folder, prompt path or name
 * ending so is passed as `\;`, which tmux reads back as ';'. A lone ";" stays po's own separator.
 */
function tmuxArgv(args: string[]): string[] {
  return args.map((a) => (a.length > 1 && a.endsWith(";") ? `${a.slice(0, -1)}\\;` : a));
}

function tmux(args: string[]): Promise<TmuxResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "tmux",
      tmuxArgv(args),
      { timeout: TMUX_TIMEOUT_MS, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        // error.code: a string when tmux could not run or its output overflowed, tmux's exit code otherwise
        const e = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
        if (e?.code === "ENOENT") reject(new UserError("tmux is not installed (or not on PATH)"));
        else if (typeof e?.code === "string") reject(e);
        else if (e?.killed) reject(new UserError(`tmux ${args[0]} did not answer within ${TMUX_TIMEOUT_MS / 1000} s`));
        else resolve({ ok: !e, stdout, stderr: stderr.trim() });
      },
    );
    child.stdin?.end();
  });
}

function failure(args: string[], r: TmuxResult): UserError {
  return new UserError(`tmux ${args[0]} failed: ${r.stderr || "no message"}`);
}

// What tmux says when there is no server at all (no socket, or a socket nobody listens on), or when
// the server went away while we asked: in each case no session is live.
const NO_SERVER = /no server running|error connecting to|no such file or directory|server exited unexpectedly/i;
const NO_SESSION = /can't find session|session not found/i;

/**
 * tmux silently turns '.' and ':' in a session name into '_' (they separate window and pane in a
 * target), so a name must be made safe before it is compared with what list-sessions reports.
 */
export function safeSessionName(name: string): string {
  return name.replace(/[.:]/g, "_");
}

/** The session of one agent, as tmux reports it: {dir} is the project folder's base name. */
export function sessionName(dir: string, agent: string, template = "{dir}-{agent}"): string {
  return safeSessionName(template.replaceAll("{dir}", basename(dir)).replaceAll("{agent}", agent));
}

/**
 * A value for an argument that tmux expands as a format (new-session's -s and -c, pipe-pane's
 * command): '#' doubled, so `#(…)` runs nothing and `#{…}` stays text. Targets (-t), -e values and
 * new-session's shell command are not expanded and are passed as they are.
 */
export function formatLiteral(value: string): string {
  return value.replace(/#/g, "##");
}

/** Quotes one word for /bin/sh: inside single quotes nothing is special except the quote itself. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Lines of `tmux list-sessions -F FORMAT`; no server means no lines. */
async function listFormat(format: string): Promise<string[]> {
  const args = ["list-sessions", "-F", format];
  const r = await tmux(args);
  if (!r.ok) {
    if (NO_SERVER.test(r.stderr)) return [];
    throw failure(args, r);
  }
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** One session as tmux reports it (its active pane's process), with times in ms since the epoch. */
export interface SessionInfo {
  /** its pane's process is alive: a session kept open (remain-on-exit) around a dead process is not */
  live: boolean;
  pid: number;
  created: number;
  /** the last output or input in the session */
  activity: number;
}

/**
 * Every session with its pane's process, whether that pane is dead, and its creation and last
 * activity, in one tmux call. A pane tmux still calls alive is checked too: its process must exist.
 */
export async function sessionInfo(): Promise<Map<string, SessionInfo>> {
  const lines = await listFormat("#{pane_pid} #{pane_dead} #{session_created} #{session_activity} #{session_name}");
  const rows = lines.map((line) => {
    const [pid, dead, created, activity] = line.split(" ", 4).map(Number);
    const name = line.split(" ").slice(4).join(" ");
    const live = dead !== 1 && pid > 0 && alive(pid);
    return [name, { live, pid, created: created * 1000, activity: activity * 1000 }] as const;
  });
  return new Map(rows);
}

/** Names of the live sessions (their pane's process is alive), in one tmux call. */
export async function listSessions(): Promise<Set<string>> {
  return liveOf(await sessionInfo());
}

export function liveOf(info: Map<string, SessionInfo>): Set<string> {
  return new Set([...info].filter(([, s]) => s.live).map(([name]) => name));
}

/** Kills those of `names` whose session is open around a dead process, so that `up` starts them anew. */
export async function killDeadSessions(names: string[]): Promise<string[]> {
  const info = await sessionInfo();
  const dead = names.filter((n) => info.has(n) && !info.get(n)!.live);
  for (const n of dead) await killSession(n);
  return dead;
}

/**
 * Starts `argv` detached in a new session `name` with working directory `cwd` and the extra
 * environment `env`. When `logFile` is given, everything the pane prints is appended to it.
 *
 * Why the command is one quoted string and not argv words: with several words tmux execs them
 * directly, but its own argument parser first treats a word ending in ';' as a command separator
 * (so `sh -c 'a;'` would be cut). One word is run by `/bin/sh -c`, so each argv element is
 * single-quoted (shellQuote) and prefixed with `exec`, and the agent replaces the shell: the exact
 * argv runs, and the session ends when the agent does.
 *
 * pipe-pane and remain-on-exit are chained to new-session in the same tmux call, so they apply
 * before the server handles any output or exit of the agent: nothing is lost even for an agent that
 * exits at once, and a user config with remain-on-exit cannot keep a dead agent's session around.
 * pipe-pane's command is expanded as a tmux format, hence '#' doubled.
 *
 * With `exitFile`, the shell stays as the pane's process and writes the agent's exit status there.
 *
 * Returns false, changing nothing, when a live session of that name already exists; a session of
 * that name kept open around a dead process is replaced.
 */
export async function newSession(
  name: string,
  cwd: string,
  argv: string[],
  env: Record<string, string>,
  logFile?: string,
  exitFile?: string,
): Promise<boolean> {
  if (safeSessionName(name) !== name)
    throw new UserError(`tmux session name '${name}' contains '.' or ':'; use safeSessionName`);
  // tmux would show these escaped (\\, \033), so the session could never be found again by its name
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f\\]/.test(name))
    throw new UserError(
      `tmux session name ${JSON.stringify(name)} contains a control character or '\\'; rename the folder`,
    );
  if (!argv.length) throw new UserError(`tmux session '${name}': empty command`);
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  const words = argv.map(shellQuote).join(" ");
  const command = exitFile ? `${words}; echo $? >${shellQuote(exitFile)}` : `exec ${words}`;
  const args = ["new-session", "-d", "-s", formatLiteral(name), "-c", formatLiteral(cwd), ...envArgs, command];
  args.push(";", "set-option", "-w", "-t", `=${name}:`, "remain-on-exit", "off");
  if (logFile) args.push(";", "pipe-pane", "-o", "-t", `=${name}:`, formatLiteral(`cat >> ${shellQuote(logFile)}`));
  for (let attempt = 1; ; attempt++) {
    if (exitFile) rmSync(exitFile, { force: true });
    const r = await tmux(args);
    if (r.ok) return true;
    if (/server exited unexpectedly/i.test(r.stderr) && exitFile && attempt < 3) {
      // The only session of a server ended (the server with it) before our chained commands ran:
      // either ours, whose command exited at once (it wrote its exit status: it did start), or
      // another one's, while we connected to that dying server (then we start again).
      if (existsSync(exitFile)) return true;
      continue;
    }
    if (!/duplicate session/i.test(r.stderr)) throw failure(args, r);
    if (attempt >= 3 || !(await killDeadSessions([name])).length) return false;
  }
}

/**
 * The live sessions, after checking that none of `mine` (the sessions of the folder `dir`) was
 * started in another folder: two folders whose names tmux makes equal ('a.b' and 'a:b' both give
 * 'a_b') would otherwise start, stop or heal each other's agents.
 */
export async function liveSessionsOf(dir: string, mine: string[]): Promise<Set<string>> {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const home = real(dir);
  const live = new Set<string>();
  for (const line of await listFormat("#{session_name}\t#{session_path}")) {
    const [name, path] = [line.slice(0, line.indexOf("\t")), line.slice(line.indexOf("\t") + 1)];
    live.add(name);
    if (!mine.includes(name) || !path) continue;
    const where = real(path);
    if (where !== home && !where.startsWith(`${home}/`))
      throw new UserError(
        `tmux session '${name}' belongs to the folder ${where}, not ${home}: their names give the same ` +
          `session ('.' and ':' become '_'); rename one folder, nothing was started or stopped`,
      );
  }
  return live;
}

/** Kills the session; a session (or server) that is already gone is fine. */
export async function killSession(name: string): Promise<void> {
  const args = ["kill-session", "-t", `=${name}`];
  const r = await tmux(args);
  if (r.ok || NO_SESSION.test(r.stderr) || NO_SERVER.test(r.stderr)) return;
  throw failure(args, r);
}

/**
 * The text of the session's pane with up to `history` lines of scrollback above the screen
 * (joined where tmux wrapped them); undefined when the session is not live.
 */
export async function capturePane(name: string, history: number): Promise<string | undefined> {
  const args = ["capture-pane", "-p", "-J", "-t", `=${name}:`, "-S", `-${history}`];
  const r = await tmux(args);
  if (r.ok) return r.stdout;
  if (NO_SESSION.test(r.stderr) || NO_SERVER.test(r.stderr)) return undefined;
  throw failure(args, r);
}
