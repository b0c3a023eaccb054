// Real "other hosts" for integration tests: one throwaway OpenSSH sshd per name on 127.0.0.1, each an ssh alias
// with its own tmux server, po state and git config (the TypeScript twin of checks/lib/sshd.sh). Nothing here
// reads or writes ~/.ssh, the client config of /etc/ssh, the system's sshd or the default tmux server.
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, openSync } from "node:fs";
import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { clientConfigText, sshdConfigText, writeKeys } from "./ssh-files.js";
import { pollUntil } from "../../src/common/poll.js";
import { alive, freezeTree, procOf, signal, tree, type Proc } from "./proctree.js";
import type { RunResult } from "./world.js";

export const SSHD = "/usr/sbin/sshd";

export interface HostOptions {
  /** The test's git config: GIT_CONFIG_GLOBAL of every host's sessions. */
  gitConfig: string;
  /** More variables for every host's sessions (names and values without whitespace or quotes). */
  env?: Record<string, string>;
}

export interface Hosts {
  root: string;
  /** root/ssh/config, the client config: `ssh -F config NAME …`. */
  config: string;
  /** root/bin, with an `ssh` that adds `-F config`: put it first on PATH (see `withSsh`). */
  bin: string;
  names: string[];
  port(name: string): number;
  /** What host `name`'s sessions get from its sshd (SetEnv). */
  env(name: string): Record<string, string>;
  /** `base` with `bin` first on PATH, so that a plain `ssh h1 …` (po's) reaches the hosts. */
  withSsh(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** (Re)starts host `name`'s sshd on its port, with the same host key; resolves once it listens. */
  start(name: string): Promise<void>;
  /** Host `name` goes down: its sshd and every connection it accepted. Its tmux server and files stay. */
  stop(name: string): Promise<void>;
  /** Runs argv here, as on host `name` (its TMUX_TMPDIR, XDG_STATE_HOME, …): `onHost("h1", ["tmux", "ls"])`. */
  onHost(name: string, argv: string[], opts?: { input?: string; timeoutMs?: number }): RunResult;
  /** Stops every sshd and kills every host's tmux server. */
  dispose(): Promise<void>;
}

const isCI = () => !!process.env.CI && !["false", "0"].includes(process.env.CI);
const executable = (f: string) => {
  try {
    accessSync(f, constants.X_OK);
    return statSync(f).isFile();
  } catch {
    return false;
  }
};
const which = (cmd: string, skip = "") =>
  (process.env.PATH ?? "")
    .split(delimiter)
    .filter((d) => d && d !== skip)
    .map((d) => join(d, cmd))
    .find(executable);

/**
 * false when the sshd tests can run, else why not (a skip reason). Under CI a missing sshd is a failure, not a
 * skip (CI installs openssh-server): this throws. Use as `describe("…", { skip: sshdSkip() }, …)`.
 */
export function sshdSkip(): string | false {
  const missing = [executable(SSHD) ? "" : SSHD, ...["ssh", "ssh-keygen"].filter((c) => !which(c))].filter(Boolean);
  if (missing.length === 0) return false;
  const why = `no OpenSSH here (${missing.join(", ")} missing; apt-get install openssh-server openssh-client)`;
  if (isCI()) throw new Error(`CI must run the sshd tests: ${why}`);
  return why;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
    );
  });
}

const tail = (text: string, n = 3) => text.trim().split("\n").slice(-n).join(" | ");

/** Starts one sshd per name on 127.0.0.1, all under root/ssh; resolves once each answers `ssh NAME true`. */
export async function startHosts(root: string, names: string[], opts: HostOptions): Promise<Hosts> {
  const skip = sshdSkip();
  if (skip) throw new Error(skip);
  const sshDir = join(root, "ssh");
  const bin = join(root, "bin");
  const config = join(sshDir, "config");
  const sshdConfig = join(sshDir, "sshd_config");
  const realSsh = which("ssh", bin)!;
  const user = userInfo().username;
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(bin, { recursive: true });
  // sshd running as root refuses to start without its privilege-separation folder (the package's service makes it)
  if (process.getuid?.() === 0) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  writeKeys(sshDir);

  const path = [bin, dirname(process.execPath), ...(process.env.PATH ?? "").split(delimiter)];
  const envOf = (n: string): Record<string, string> => ({
    TMUX_TMPDIR: join(root, `tmux-${n}`),
    XDG_STATE_HOME: join(root, `state-${n}`),
    // a home of its own: the session's shell reads no ~/.bashrc of the real user (its cwd is still the real home)
    HOME: join(root, `home-${n}`),
    GIT_CONFIG_GLOBAL: opts.gitConfig,
    GIT_CONFIG_NOSYSTEM: "1",
    PATH: [...new Set(path.filter((d) => d && !/\s/.test(d)))].join(":"),
    ...opts.env,
  });
  const setEnv = (n: string) =>
    Object.entries(envOf(n))
      .map(([k, v]) => {
        if (/[\s"'\\]/.test(k + v)) throw new Error(`sshd SetEnv cannot carry ${k}=${v} (whitespace or quotes)`);
        return `${k}=${v}`;
      })
      .join(" ");

  writeFileSync(sshdConfig, sshdConfigText(sshDir, user));
  // OpenSSH >= 9.8 penalises a source address whose connections fail (PerSourcePenalties): tests fail on
  // purpose, all from 127.0.0.1. Older sshd rejects the keyword, so it is added only where sshd knows it.
  if (spawnSync(SSHD, ["-t", "-f", sshdConfig, "-o", "PerSourcePenalties=no"], { stdio: "ignore" }).status === 0) {
    writeFileSync(sshdConfig, `${readFileSync(sshdConfig, "utf8")}PerSourcePenalties no\n`);
  }

  const hosts = new Map<string, { port?: number; child?: ChildProcess; proc?: Proc }>();
  const host = (n: string) => {
    const h = hosts.get(n);
    if (!h) throw new Error(`no host ${n} (hosts: ${names.join(", ")})`);
    return h;
  };
  const pidFile = (n: string) => join(sshDir, `sshd-${n}.pid`);
  const logFile = (n: string) => join(sshDir, `sshd-${n}.log`);
  // a pid is never trusted blindly: it must still be the sshd started here for that host (its cmdline becomes
  // one line, "sshd: /usr/sbin/sshd -D … [listener] …", once it listens, hence a text match)
  const ours = (n: string, p: Proc | undefined): p is Proc => {
    if (!p || !alive(p)) return false;
    try {
      const cmd = readFileSync(`/proc/${p.pid}/cmdline`, "utf8").replaceAll("\0", " ");
      return cmd.includes(`-f ${sshdConfig} `) && cmd.includes(`PidFile=${pidFile(n)} `);
    } catch {
      return false;
    }
  };

  async function start(n: string): Promise<void> {
    const h = host(n);
    if (ours(n, h.proc)) return;
    const log = logFile(n);
    let why = "";
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = h.port ?? (await freePort());
      rmSync(pidFile(n), { force: true });
      const mark = existsSync(log) ? statSync(log).size : 0;
      const fd = openSync(log, "a");
      // the host's environment comes from its sshd (SetEnv), not from the client: ssh keeps only the first
      // SetEnv it reads, so a `-o SetEnv=…` of po's own would drop a client config's
      const child = spawn(
        SSHD,
        ["-D", "-e", "-f", sshdConfig, "-p", String(port), "-o", `PidFile=${pidFile(n)}`, "-o", `SetEnv=${setEnv(n)}`],
        { stdio: ["ignore", fd, fd] },
      );
      closeSync(fd);
      child.unref(); // a test that forgets dispose() still ends: the exit handler below stops its sshd
      let exited = false;
      child.once("exit", () => {
        exited = true;
      });
      const since = () => readFileSync(log, "utf8").slice(mark);
      const listening = () =>
        since().includes(`Server listening on 127.0.0.1 port ${port}.`) &&
        existsSync(pidFile(n)) &&
        readFileSync(pidFile(n), "utf8").trim() === String(child.pid);
      await pollUntil(() => exited || listening(), 10_000);
      const proc = child.pid === undefined ? undefined : procOf(child.pid);
      if (!exited && listening() && proc) {
        Object.assign(h, { port, child, proc });
        return;
      }
      why =
        `sshd for ${n} did not say "Server listening on 127.0.0.1 port ${port}" and write ${pidFile(n)} ` +
        `within 10s (${exited ? `it exited ${child.exitCode ?? child.signalCode}` : "still running"}); ` +
        `${log}: ${tail(since())}`;
      child.kill("SIGKILL");
      await pollUntil(() => exited, 5_000);
      if (h.port !== undefined) break; // a restart keeps its port (known_hosts, the fleet): no other
    }
    throw new Error(why);
  }

  async function stop(n: string): Promise<void> {
    const h = host(n);
    const top = h.proc;
    h.proc = undefined;
    if (!ours(n, top)) return;
    const all = await freezeTree(top);
    for (const p of all) signal(p, "SIGTERM");
    for (const p of all) signal(p, "SIGCONT"); // the pending SIGTERM lands now
    if (!(await pollUntil(() => all.every((p) => !alive(p)), 5_000))) {
      for (const p of all) signal(p, "SIGKILL");
      if (!(await pollUntil(() => all.every((p) => !alive(p)), 5_000))) {
        throw new Error(
          `sshd of ${n}: pids ${all
            .filter(alive)
            .map((p) => p.pid)
            .join(" ")} outlived SIGKILL`,
        );
      }
    }
    rmSync(pidFile(n), { force: true });
  }

  const onHost: Hosts["onHost"] = (n, argv, o = {}) => {
    host(n);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(GIT_|TMUX$|TMUX_PANE$)/.test(k)));
    const r = spawnSync(argv[0]!, argv.slice(1), {
      env: { ...base, ...envOf(n) },
      encoding: "utf8",
      input: o.input ?? "",
      timeout: o.timeoutMs ?? 10_000,
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
  };
  const killTmux = (n: string) => onHost(n, ["tmux", "kill-server"]);

  // the last word when a test ends without dispose(): no sshd, connection or tmux server of ours outlives it
  const onExit = () => {
    for (const [n, h] of hosts) {
      if (ours(n, h.proc)) for (const p of tree(h.proc)) signal(p, "SIGKILL");
      killTmux(n);
    }
  };
  process.once("exit", onExit);

  for (const n of names) {
    hosts.set(n, {});
    for (const d of ["tmux", "state", "home"]) mkdirSync(join(root, `${d}-${n}`), { recursive: true, mode: 0o700 });
  }
  try {
    for (const n of names) await start(n);
    // host-key checking stays on, as po never weakens it: known_hosts holds the real key of each [127.0.0.1]:port
    const hostKey = readFileSync(join(sshDir, "host_ed25519.pub"), "utf8").split(" ").slice(0, 2).join(" ");
    const known = names.map((n) => `[127.0.0.1]:${host(n).port} ${hostKey}\n`);
    writeFileSync(join(sshDir, "known_hosts"), known.join(""));
    writeFileSync(config, clientConfigText(sshDir, user, new Map(names.map((n) => [n, host(n).port!]))));
    // po runs `ssh` by name, and OpenSSH reads its client config from ~/.ssh/config or from -F only (no
    // environment variable points elsewhere): an `ssh` first on PATH adds -F, which also keeps /etc/ssh out.
    writeFileSync(
      join(bin, "ssh"),
      `#!/bin/sh\n# po test: the real ssh with the test's client config\n` + `exec ${realSsh} -F ${config} "$@"\n`,
    );
    chmodSync(join(bin, "ssh"), 0o755);
    for (const n of names) {
      let last: RunResult | undefined;
      const answers = async () => (last = await run(realSsh, ["-F", config, "-n", n, "true"], 15_000)).code === 0;
      if (!(await pollUntil(answers, 15_000))) {
        // e.g. "not allowed because account is locked": UsePAM no
        throw new Error(
          `ssh ${n} true (port ${host(n).port}) kept failing for 15s: ${tail(last?.stderr ?? "")}; ` +
            `${logFile(n)}: ${tail(readFileSync(logFile(n), "utf8"))}`,
        );
      }
    }
  } catch (e) {
    for (const n of names) await stop(n).catch(() => {});
    onExit();
    process.removeListener("exit", onExit);
    throw e;
  }

  return {
    root,
    config,
    bin,
    names,
    port: (n) => host(n).port!,
    env: envOf,
    withSsh: (base) => ({ ...base, PATH: `${bin}${delimiter}${base.PATH ?? ""}` }),
    start,
    stop,
    onHost,
    async dispose() {
      for (const n of names) await stop(n);
      for (const n of names) killTmux(n);
      process.removeListener("exit", onExit);
    },
  };
}
