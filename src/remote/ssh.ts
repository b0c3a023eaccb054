// The transport to other hosts: OpenSSH, run by name as the operator runs it, so that their ssh
// config (aliases, keys, jump hosts, known_hosts) applies. Never a password prompt (BatchMode),
// never a weaker host-key check, one connection per host shared by every call (ControlMaster in a
// private folder), argv only: each word is quoted for the remote user's shell, which ssh always uses.
import { spawn, type ChildProcess } from "node:child_process";
import { lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { HostSpec } from "../../reconcile/model.js";
import { shellQuote } from "../adapters/tmux.js";

const CONNECT_TIMEOUT_S = 10;
/** what is kept of ssh's stderr: its last line is what a failure says */
export const STDERR_CAP = 64 * 1024;

/** A folder only we can enter, short enough for a socket path (107 bytes); undefined if none is. */
function controlDir(): string | undefined {
  const uid = process.getuid?.() ?? -1;
  const runtime = process.env.XDG_RUNTIME_DIR;
  const candidates = [...(runtime ? [join(runtime, "po-ssh")] : []), `/tmp/po-ssh-${uid}`];
  for (const dir of candidates) {
    // "/%C" is 41 more bytes (a 40-hex hash of host, port and user), and the master first binds a
    // temporary name 17 bytes longer (".XXXXXXXXXXXXXXXX"); a socket path holds 107 bytes on Linux
    if (dir.length + 41 + 17 > 107) continue;
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") continue;
    }
    const st = lstatSync(dir, { throwIfNoEntry: false });
    // someone else's folder, a symlink, or one others may enter: another user could hijack our sockets
    if (st?.isDirectory() && !st.isSymbolicLink() && st.uid === uid && (st.mode & 0o077) === 0) return dir;
  }
  return undefined;
}

/** The remote command line: every argv word single-quoted, so the remote shell runs exactly argv. */
export function remoteCommand(argv: string[]): string {
  return argv.map(shellQuote).join(" ");
}

/** ssh's argv for running `argv` on `host`; `tty` for an interactive command (attach, logs -f). */
export function sshArgs(host: HostSpec, argv: string[], tty = false): string[] {
  const dir = controlDir();
  const mux = dir
    ? ["-o", "ControlMaster=auto", "-o", `ControlPath=${dir}/%C`, "-o", "ControlPersist=60"]
    : ["-o", "ControlMaster=no"];
  return [
    "-o",
    "BatchMode=yes",
    "-o",
    `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
    "-o",
    "ServerAliveInterval=15",
    "-o",
    "ServerAliveCountMax=3",
    ...mux,
    tty ? "-t" : "-T",
    "--",
    host.ssh,
    remoteCommand(argv),
  ];
}

export interface SshResult {
  /** ssh's exit code (255: ssh itself failed), or null when it was killed */
  code: number | null;
  stderr: string;
  timedOut: boolean;
}

export interface SshCall {
  /** writes one line to the remote po's stdin (ignored once it is gone) */
  send(line: string): void;
  /** closes the remote po's stdin */
  end(): void;
  done: Promise<SshResult>;
}

/**
 * How an ssh process ended: its exit code and its stderr (capped); with `timeoutMs` it is bounded
 * (SIGTERM, then SIGKILL), which ends the remote session too. 'close' comes after stdout's end, so
 * every line of it is read before the result counts.
 */
export function sshEnd(child: ChildProcess, timeoutMs?: number): Promise<SshResult> {
  let stderr = "";
  let timedOut = false;
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (d: string) => {
    if (stderr.length < STDERR_CAP) stderr += d;
  });
  child.stdin?.on("error", () => {}); // the remote side went away: the result says why
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 2000).unref();
        }, timeoutMs);
  return new Promise((resolve) => {
    const end = (r: SshResult) => {
      clearTimeout(timer);
      resolve(r); // a spawn error is followed by close: the first one counts
    };
    child.once("error", (e) => end({ code: 255, stderr: `ssh could not run: ${e.message}`, timedOut }));
    child.once("close", (code) => end({ code, stderr, timedOut }));
  });
}

/**
 * Runs po's `args` on `host` with `input` as its first stdin line; each stdout line goes to
 * `onLine`. Bounded by `timeoutMs`: then ssh is killed, which ends the remote session too.
 */
export function callHost(
  host: HostSpec,
  args: string[],
  input: string,
  onLine: (line: string) => void,
  timeoutMs: number,
): SshCall {
  // detached: a Ctrl-C at po's terminal must reach po alone, which tells the host (a killed ssh could not)
  const child = spawn("ssh", sshArgs(host, [...host.po, ...args]), { stdio: ["pipe", "pipe", "pipe"], detached: true });
  const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
  lines.on("line", onLine);
  const done = sshEnd(child, timeoutMs);
  child.stdin.write(`${input}\n`);
  return {
    send: (line) => {
      if (child.stdin.writable) child.stdin.write(`${line}\n`);
    },
    end: () => child.stdin.end(),
    done,
  };
}

function lastLine(text: string): string {
  const line = text.trim().split("\n").filter(Boolean).pop() ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Why a call to `host` failed, in one line that names the host and says what to do. */
export function hostFailure(host: HostSpec, r: SshResult): string {
  const said = lastLine(r.stderr);
  const at = `host ${host.name} (ssh ${host.ssh})`;
  if (r.timedOut) return `${at} did not answer in time${said ? `: ${said}` : ""}`;
  if (r.code === 255) return `${at} cannot be reached: ${said || "ssh failed"}; check it with ssh ${host.ssh} true`;
  if (r.code === 127 || r.code === 126)
    return (
      `${at}: its po (${host.po.join(" ")}) does not run there: ${said}; install po there, or set ` +
      `po = [...] in [hosts.${host.name}]`
    );
  return `${at}: ${said || `its po exited with ${r.code ?? "a signal"} and said nothing`}`;
}
