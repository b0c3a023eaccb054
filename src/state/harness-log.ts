// .ao-state/harness/: what the last harness up and down of each project printed, for po logs --harness.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { writePrivate } from "./private.js";

/** Only the end of a long output is kept: that is where a harness says why it failed. */
export const HARNESS_LOG_BYTES = 64 * 1024;

function logFile(dir: string, project: string, verb: "up" | "down"): string {
  return join(dir, "harness", `${encodeURIComponent(project)}.${verb}.log`);
}

export function writeHarnessLog(dir: string, project: string, verb: "up" | "down", text: string, header: string): void {
  const bytes = Buffer.from(text);
  const kept = bytes.length > HARNESS_LOG_BYTES ? bytes.subarray(bytes.length - HARNESS_LOG_BYTES) : bytes;
  const cut = kept.length < bytes.length ? `(the first ${bytes.length - kept.length} bytes are not kept)\n` : "";
  writePrivate(logFile(dir, project, verb), `${header}\n${cut}${kept.toString()}`);
}

export interface HarnessLog {
  verb: "up" | "down";
  file: string;
  text: string;
  mtime: Date;
}

/** The kept outputs of the project's last up and down, oldest first. */
export function readHarnessLogs(dir: string, project: string): HarnessLog[] {
  const logs = (["up", "down"] as const).flatMap((verb) => {
    const file = logFile(dir, project, verb);
    try {
      return [{ verb, file, text: readFileSync(file, "utf8"), mtime: statSync(file).mtime }];
    } catch {
      return [];
    }
  });
  return logs.sort((a, b) => a.mtime.getTime() - b.mtime.getTime());
}
