// The heal watchdog process seen from outside: find it, start it detached, stop it.
import { spawn } from "node:child_process";
import { closeSync, existsSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { openPrivate } from "../state/private.js";
import { fileURLToPath } from "node:url";
import { pollUntil } from "../common/poll.js";
import { UserError } from "../common/problems.js";
import { alive } from "../adapters/process-group.js";
import { statePaths } from "./session.js";

/** The compiled watchdog entry point, beside this file in dist/src. */
export const WATCHDOG_SCRIPT = fileURLToPath(new URL("./watchdog.js", import.meta.url));
const STOP_WAIT_MS = 15_000; // longer than one tmux call's timeout, so a tick in flight can finish
const START_WAIT_MS = 30_000; // ends when its pid file appears; a loaded machine may take seconds to start node

export function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Whether `pid` is alive and really the watchdog of `dir`: a pid file can outlive its process and
 * the pid be reused, so on Linux the command line must name the watchdog script and the directory
 * (compared as real paths: `up` and `down` may name it through different symlinks). A zombie has
 * an empty command line, which counts as dead.
 */
export function isOurWatchdog(pid: number, dir: string): boolean {
  if (!alive(pid)) return false;
  if (!existsSync("/proc/self/cmdline")) return true;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const real = realpathOr(dir);
    return args.some((a) => a.endsWith("watchdog.js")) && args.some((a) => a === dir || realpathOr(a) === real);
  } catch {
    return false;
  }
}

export function liveWatchdog(dir: string): number | undefined {
  const pid = readPid(statePaths(dir).pidFile);
  return pid !== undefined && isOurWatchdog(pid, dir) ? pid : undefined;
}

/** Starts the watchdog detached unless one is alive; waits until it has claimed its pid file. */
export async function ensureWatchdog(dir: string): Promise<{ pid: number; started: boolean }> {
  const running = liveWatchdog(dir);
  if (running) return { pid: running, started: false };
  const paths = statePaths(dir);
  // the watchdog writes its log to this: opened here, never through a link
  const out = openPrivate(paths.watchdogLog);
  const child = spawn(process.execPath, [WATCHDOG_SCRIPT, dir], {
    cwd: dir,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  let exited = false;
  child.on("error", () => (exited = true)).on("exit", () => (exited = true));
  child.unref();
  await pollUntil(() => exited || readPid(paths.pidFile) === child.pid, START_WAIT_MS);
  // A concurrent `up` may have won the race: the watchdog that holds the pid file is the one.
  const pid = liveWatchdog(dir);
  if (!pid) throw new UserError(`the heal watchdog did not start; see ${paths.watchdogLog}`);
  return { pid, started: pid === child.pid };
}

/** SIGTERM, a bounded wait, then SIGKILL. Idempotent. */
export async function stopWatchdog(dir: string): Promise<{ pid?: number; stopped: boolean }> {
  const { pidFile } = statePaths(dir);
  const pid = readPid(pidFile);
  if (pid === undefined) return { stopped: false };
  const wasAlive = isOurWatchdog(pid, dir);
  if (wasAlive) {
    process.kill(pid, "SIGTERM");
    if (!(await pollUntil(() => !isOurWatchdog(pid, dir), STOP_WAIT_MS))) {
      process.kill(pid, "SIGKILL");
      await pollUntil(() => !isOurWatchdog(pid, dir), 2_000);
    }
  }
  if (readPid(pidFile) === pid) rmSync(pidFile, { force: true });
  return { pid, stopped: wasAlive };
}
