// Reads a TOML file, parses it with smol-toml and checks it against its schema. Positions are
// computed only when there is something to report.
import { readFileSync, statSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { type Problem } from "../common/problems.js";
import { schemaProblems, type SchemaName } from "./schema-check.js";
import { locator, type Locator } from "./toml-locate.js";
import { safetyProblems } from "./value-safety.js";

const MAX_BYTES = 10 * 1024 * 1024;

export interface LoadedToml {
  file: string;
  source: string;
  data?: Record<string, unknown>;
  problems: Problem[];
  /** where a key path stands in the file (computed on first use) */
  locate: Locator;
}

function lazyLocator(source: string): Locator {
  let real: Locator | undefined;
  return (path) => (real ??= locator(source))(path);
}

// Synchronous reads: po reads small files, a thousand agents.toml in one plan, and each async read
// costs far more in thread-pool round trips than the read itself.
const MISSING_HINT: Record<SchemaName, string> = {
  fleet: "pass --fleet FILE, or run po in the folder that holds fleet.toml",
  agents: "a project lists its agents in agents.toml at its root",
};

function readSource(file: string, schema: SchemaName): string | Problem {
  let info;
  try {
    info = statSync(file);
  } catch {
    // missing, or a path through a file: there is nothing to read either way
    return { file, message: `file not found (${MISSING_HINT[schema]})` };
  }
  if (!info.isFile()) return { file, message: "not a regular file" };
  if (info.size > MAX_BYTES)
    return { file, message: `file is ${info.size} bytes, more than the ${MAX_BYTES} that po reads` };
  const source = readFileSync(file, "utf8");
  if (source.startsWith("\uFEFF")) {
    return { file, line: 1, col: 1, message: "file starts with a byte-order mark; save it as UTF-8 without BOM" };
  }
  return source;
}

function syntaxProblem(file: string, source: string, e: TomlError): Problem {
  let first = e.message.split("\n")[0].replace("Invalid TOML document: ", "");
  // smol-toml reports a string left open at the end of its line as a control character in it
  const at = source.split("\n")[e.line - 1]?.[e.column - 1];
  if (first.includes("control characters") && (at === undefined || at === "\r")) {
    first = `unterminated string: a string must end on the line it starts (use """ or ''' for multi-line strings)`;
  }
  return { file, line: e.line, col: e.column, message: `TOML syntax error: ${first}` };
}

/** Loads `file`, or checks `text` as if it were that file's content (an edit before it is written). */
export async function loadToml(file: string, schema: SchemaName, text?: string): Promise<LoadedToml> {
  const source = text ?? readSource(file, schema);
  if (typeof source !== "string") return { file, source: "", problems: [source], locate: () => ({ line: 1, col: 1 }) };
  const locate = lazyLocator(source);
  let data: Record<string, unknown>;
  try {
    data = parse(source) as Record<string, unknown>;
  } catch (e) {
    // smol-toml reports every mistake in the file as a TomlError: anything else is a bug, not a syntax error
    if (!(e instanceof TomlError)) throw e;
    return { file, source, problems: [syntaxProblem(file, source, e)], locate };
  }
  const problems = schemaProblems(schema, data, file, locate);
  problems.push(...safetyProblems(schema, data, file, locate, problems));
  return { file, source, data, problems: problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)), locate };
}
