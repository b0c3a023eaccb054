// Progress during a long apply on a terminal: every few seconds, what is still running and for how long.
import type { Action } from "../../reconcile/model.js";

export const PROGRESS_EVERY_MS = 5000;

export interface Progress {
  start(a: Action): void;
  end(a: Action): void;
  stop(): void;
}

/** Writes "web: start (still running, 12s)" for each action running longer than `everyMs`. */
export function progress(write: (line: string) => void, everyMs = PROGRESS_EVERY_MS): Progress {
  const running = new Map<string, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [what, since] of running)
      if (now - since >= everyMs) write(`${what} (still running, ${Math.round((now - since) / 1000)}s)`);
  }, everyMs);
  timer.unref();
  return {
    start: (a) => running.set(`${a.project}: ${a.kind}`, Date.now()),
    end: (a) => running.delete(`${a.project}: ${a.kind}`),
    stop: () => clearInterval(timer),
  };
}

/** No progress lines: not a terminal, or the output is JSON. */
export const quiet: Progress = { start() {}, end() {}, stop() {} };
