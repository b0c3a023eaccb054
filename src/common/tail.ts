// The last lines of a text or a log file, for an error that must say why (bounded reads only).
import { closeSync, openSync, readSync, statSync } from "node:fs";

/** The last `n` non-empty lines of `text` (but those matching `skip`), each cut to 200 characters. */
export function lastLines(text: string, n: number, skip?: RegExp): string[] {
  return text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "" && !skip?.test(l))
    .slice(-n)
    .map((l) => (l.length > 200 ? `${l.slice(0, 200)}…` : l));
}

/** The last `n` non-empty lines of a file (reading at most its last 16 KB); none when it is missing. */
export function tailOfFile(file: string, n: number, skip?: RegExp): string[] {
  let fd: number | undefined;
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 16 * 1024);
    const buf = Buffer.alloc(length);
    fd = openSync(file, "r");
    readSync(fd, buf, 0, length, size - length);
    // a terminal UI's escape sequences and carriage returns would garble the lines of an error
    return lastLines(buf.toString("utf8").replace(/\x1b\[[0-9;?]*[A-Za-z]|\r/g, ""), n, skip);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
