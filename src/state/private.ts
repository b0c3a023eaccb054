// .ao-state/ is private whatever the umask: folders 0700, files 0600 (journals and agent logs may
// hold secrets), and it ignores itself so that a fleet or project repository never commits it.
import { appendFileSync, chmodSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) 0700, tightens it if it exists, and returns it. */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  chmodSync(dir, DIR_MODE);
  if (basename(dir) === ".ao-state") {
    try {
      writeFileSync(join(dir, ".gitignore"), "*\n", { mode: FILE_MODE, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  return dir;
}

/** Writes `file` atomically (a private temporary file renamed into place), 0600. */
export function writePrivate(file: string, text: string): void {
  privateDir(dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: FILE_MODE });
  renameSync(tmp, file);
}

/** Appends to `file`, creating it 0600 (and making an older, wider one 0600). */
export function appendPrivate(file: string, text: string): void {
  appendFileSync(file, text, { mode: FILE_MODE });
  chmodSync(file, FILE_MODE);
}
