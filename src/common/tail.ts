// A bounded tail of a stream's output: whatever a process prints, po keeps only its last bytes.
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
