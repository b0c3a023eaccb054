// Bounded output: the tail of a stream as it comes, and the last lines of a text or a log file.
import { closeSync, openSync, readSync, statSync } from "node:fs";

export const TAIL_BYTES = 64 * 1024;

export class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** bytes seen in all, so that a cut tail can say how much came before it */
  total = 0;

  constructor(private readonly limit = TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk);
    this.size += Math.min(chunk.length, this.limit);
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    const kept = all.subarray(Math.max(0, all.length - this.limit)).toString("utf8");
    return this.total > this.limit ? `[… ${this.total - this.limit} earlier bytes not kept]\n${kept}` : kept;
  }
}

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
