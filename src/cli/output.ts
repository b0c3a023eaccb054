// Terminal output: colour only on a terminal and never with NO_COLOR; text only, whatever the data.
import { StringDecoder } from "node:string_decoder";
import { redactUrl } from "../common/redact.js";

export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  return (
    Boolean(stream.isTTY) && !("NO_COLOR" in process.env && process.env.NO_COLOR !== "") && process.env.TERM !== "dumb"
  );
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, bold: 1, dim: 2 } as const;
export type Color = keyof typeof CODES;

export function paint(text: string, color: Color, on = useColor()): string {
  return on ? `\x1b[${CODES[color]}m${text}\x1b[0m` : text;
}

// Every control character but tab and newline (C0, DEL, C1), and the bidirectional overrides that
// make a terminal show text in another order than it is; with group 1, the colours paint() makes.
const SGR = `\\x1b\\[(?:${[0, ...Object.values(CODES)].join("|")})m`;
const UNSAFE = new RegExp(`(${SGR})|[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f\\u202a-\\u202e\\u2066-\\u2069]`, "g");

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, "0");

/**
 * `text` as it may reach the operator: credentials in urls hidden, control characters written out
 * (`\x1b`; `\u001b` in JSON, where that is the escape JSON knows), colours kept only when `color`.
 */
export function terminalText(text: string, opts: { json?: boolean; color?: boolean } = {}): string {
  return redactUrl(text).replace(UNSAFE, (all, sgr: string | undefined) => {
    if (sgr) return opts.color ? all : terminalText(all[0], opts) + all.slice(1);
    if (opts.json || all.charCodeAt(0) > 0xff) return `\\u${hex(all, 4)}`;
    return `\\x${hex(all, 2)}`;
  });
}

/**
 * Makes every write to stdout and stderr pass terminalText, so that no printer (nor a file's
 * content, a repository's message or a harness's output inside what it prints) can move the
 * cursor, retitle the terminal or write to the clipboard. Called once, by the entry point.
 */
export function guardOutput(json: boolean): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const decoder = new StringDecoder("utf8");
    const color = useColor(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : decoder.write(chunk as Buffer);
      return write(terminalText(text, { json, color }), ...rest.filter((r) => typeof r !== "string"));
    }) as typeof stream.write;
  }
}

export function printJson(value: unknown): void {
  // JSON.stringify leaves DEL and the C1 controls raw: JSON's own \u escape keeps them text
  // eslint-disable-next-line no-control-regex
  const text = JSON.stringify(value, null, 2).replace(/[\x7f-\x9f]/g, (c) => `\\u${hex(c, 4)}`);
  process.stdout.write(`${text}\n`);
}

/** Left-aligned columns, for tables of projects. */
export function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ")).join("\n");
}
