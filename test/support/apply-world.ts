// Helpers for the safe-apply and stress suites: fleets with several harnesses, po run in the
// background (to interrupt or kill it), the apply journal and lock, and process checks.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { shellQuote } from "../../src/adapters/tmux.js";
import { CLI, until, writeFleet, type FleetProject, type RunResult, type World } from "./world.js";

export type { HarnessDef } from "./world.js";
/** A project of fleet.toml (see world.ts's writeFleet). */
export type ProjectDef = FleetProject;

/** writeFleet under its older name. */
export const writeFleetOf = writeFleet;

export interface Background {
  pid: number;
  done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
  output(): string;
}

const running = new Set<Background>();

/**
 * Ends every background po a failed test left running, so none outlives its world: interrupted
 * twice (it stops its harness processes and releases its lock), killed if it does not end soon.
 */
export async function stopBackground(): Promise<void> {
  await Promise.all(
    [...running].map(async (b) => {
      const signal = (s: NodeJS.Signals) => running.has(b) && process.kill(b.pid, s);
      const ended = (ms: number) =>
        Promise.race([b.done.then(() => true), new Promise((r) => setTimeout(r, ms)).then(() => false)]);
      signal("SIGTERM");
      if (!(await ended(100))) signal("SIGTERM");
      if (!(await ended(10_000))) signal("SIGKILL");
      await b.done;
    }),
  );
}

/** po in the background, so that a test can interrupt or kill it mid-run. */
/** Branches main and side of `dir` that change the same file differently: merging side conflicts. */
export function conflictingBranches(w: World, dir: string): void {
  for (const branch of ["side", "main"]) {
    w.git(dir, "checkout", "-q", ...(branch === "side" ? ["-b", "side"] : ["main"]));
    writeFileSync(join(dir, "notes"), `${branch}\n`);
    w.git(dir, "add", "notes");
    w.git(dir, "commit", "-qm", branch);
  }
}

/** Ends what a test left running in the background, then removes its world. */
export async function dispose(w: World | undefined): Promise<void> {
  await stopBackground();
  w?.cleanup();
}

/** How long a background po may run before its `done` fails the test (and the po is killed). */
export const BACKGROUND_BOUND_MS = 120_000;

/**
 * po in the background, so that a test can interrupt or kill it mid-run. `done` is bounded: it
 * rejects, naming the command, when po has not ended within `boundMs` (po is then killed).
 */
export function poBackground(w: World, args: string[], boundMs = BACKGROUND_BOUND_MS): Background {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: w.root, env: w.env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      running.delete(background);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    }),
  );
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`po ${args.join(" ")} did not end within ${boundMs} ms:\n${stdout}${stderr}`));
    }, boundMs);
    timer.unref();
  });
  const done = Promise.race([closed, bound]);
  done.catch(() => {}); // reported to whoever awaits it; never an unhandled rejection
  const background: Background = { pid: child.pid!, done, output: () => stdout + stderr };
  running.add(background);
  return background;
}

/**
 * A point where a harness command blocks until the test opens it: `wait` is a shell snippet that
 * returns at once when the gate is open, and otherwise marks `reached` and waits for it to open
 * (failing the harness after `boundS`, so a forgotten gate cannot hang anything).
 */
export interface Gate {
  wait: string;
  reached: string;
  open(): void;
  close(): void;
}

export function gate(w: World, name: string, boundS = 120): Gate {
  const openFile = join(w.root, `gate-${name}.open`);
  const reached = join(w.root, `gate-${name}.reached`);
  const [o, r] = [shellQuote(openFile), shellQuote(reached)];
  const wait =
    `[ -e ${o} ] || { : > ${r}; i=0; until [ -e ${o} ]; do i=$((i+1)); ` +
    `if [ $i -gt ${boundS * 20} ]; then echo "gate ${name} was never opened" >&2; exit 9; fi; sleep 0.05; done; }`;
  return {
    wait,
    reached,
    open: () => writeFileSync(openFile, ""),
    close: () => {
      rmSync(openFile, { force: true });
      rmSync(reached, { force: true });
    },
  };
}

/** A harness whose up (or down) waits at `g` until the test opens it. */
export const gated = (g: Gate, verb: "up" | "down" = "up") => ({
  [verb]: ["sh", "-c", `${g.wait}; exec node engine/harness.mjs ${verb}`],
});

/** Waits (bounded) until whatever holds at `g` has reached it. */
export const reachedGate = (g: Gate, what: string) =>
  until(() => existsSync(g.reached), 30_000, `${what} to reach its gate`);

export interface JournalEntry {
  plan: string;
  event: string;
  project?: string;
  action?: string;
  outcome?: string;
  error?: string;
}

export function journalOf(w: World): JournalEntry[] {
  const file = join(w.root, ".ao-state", "journal.jsonl");
  if (!existsSync(file)) return [];
  // a line is complete once its newline is written: a line being appended right now is left out
  const lines = readFileSync(file, "utf8").split("\n").slice(0, -1);
  return lines.filter(Boolean).map((l) => JSON.parse(l) as JournalEntry);
}

export const lockPath = (w: World) => join(w.root, ".ao-state", "apply.lock");

/** A process that no longer runs (a zombie nobody reaped yet counts as gone); throws when it cannot tell. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return true;
    throw e; // EPERM: it runs, as another user's
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return true; // ended between the two looks
    throw e;
  }
  return / Z /.test(stat.slice(stat.lastIndexOf(")")));
}

export { oneLine } from "./world.js";

export function rev(w: World, dir: string, what = "HEAD"): string {
  return w.git(dir, "rev-parse", what).trim();
}
