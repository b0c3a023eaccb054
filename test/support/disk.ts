// A full disk for the robustness-disk suites: a small tmpfs mounted for one test (root only: the test
// is skipped otherwise), filled to its last byte or to a given number of free pages, and po's lines.
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, statSync, statfsSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { noStackTrace } from "./world.js";

/**
 * Mounts a 2 MiB tmpfs on `dir` until the test ends (then unmounted lazily: a process of a failed
 * test may still hold a file there); false, the test skipped, when this user may not mount.
 */
export function mountSmall(t: TestContext, dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    t.skip("needs root to mount a small tmpfs");
    return false;
  }
  t.after(() => {
    spawnSync("umount", ["-l", dir]);
  });
  return true;
}

/**
 * Fills the tmpfs at `dir` to its last byte: a filler file, then the last page of each of `files`
 * (an append to a file whose last page has room would still succeed on a full tmpfs).
 */
export function fill(dir: string, files: string[]): void {
  for (const f of [join(dir, "filler"), ...files]) {
    try {
      appendFileSync(f, "\n".repeat(4 * 1024 * 1024));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
    }
  }
}

/** After fill: exactly `pages` free pages on the tmpfs at `dir` (tmpfs counts whole pages). */
export function leaveRoom(dir: string, pages: number): void {
  const filler = join(dir, "filler");
  const { bsize } = statfsSync(dir);
  truncateSync(filler, Math.max(0, Math.ceil(statSync(filler).size / bsize) - pages) * bsize);
  assert.equal(statfsSync(dir).bavail, pages, `the tmpfs at ${dir} to have ${pages} free page(s)`);
}

/** Every line on stderr is one of po's own lines: no stack trace, no internal error. */
export function poLines(stderr: string): string[] {
  noStackTrace(stderr, "stderr");
  const lines = stderr.trim().split("\n");
  for (const l of lines) assert.match(l, /^po: /, `not one of po's lines:\n${stderr}`);
  return lines;
}
