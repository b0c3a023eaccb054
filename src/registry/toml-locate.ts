// Maps a key path (["projects", "alpha", "enabled"]) to where it stands in the TOML source, so that
// schema and semantic problems point at a line. smol-toml keeps no positions; toml-eslint-parser does.
// toml-eslint-parser is loaded only when a position is asked for: a file without problems never needs it.
import { createRequire } from "node:module";
import type { AST, parseTOML as ParseTOML } from "toml-eslint-parser";

const require = createRequire(import.meta.url);

export interface Position {
  line: number;
  col: number;
}

export type Locator = (path: (string | number)[]) => Position;

function keyNames(key: AST.TOMLKey): string[] {
  return key.keys.map((k) => (k.type === "TOMLBare" ? k.name : k.value));
}

function at(node: AST.TOMLNode): Position {
  return { line: node.loc.start.line, col: node.loc.start.column + 1 };
}

/** Gives `path` and each table it implies (its prefixes) the position `pos`, where they have none yet. */
function locateAll(path: (string | number)[], pos: Position, out: Map<string, Position>): void {
  for (let n = 1; n <= path.length; n++) {
    const key = path.slice(0, n).join("\0");
    if (!out.has(key)) out.set(key, pos);
  }
}

function walkValue(prefix: (string | number)[], node: AST.TOMLContentNode, out: Map<string, Position>): void {
  if (node.type === "TOMLInlineTable") walkBody(prefix, node.body, out);
  if (node.type === "TOMLArray")
    node.elements.forEach((e, i) => {
      out.set([...prefix, i].join("\0"), at(e));
      walkValue([...prefix, i], e, out);
    });
}

function walkBody(prefix: (string | number)[], body: AST.TOMLKeyValue[], out: Map<string, Position>): void {
  for (const kv of body) {
    const path = [...prefix, ...keyNames(kv.key)];
    // a dotted key (alpha.ref = …) also locates the tables it implies (alpha), at their first key
    locateAll(path, at(kv), out);
    walkValue(path, kv.value, out);
  }
}

/** A locator for `source`; paths not found fall back to their nearest located ancestor, then line 1. */
export function locator(source: string): Locator {
  const out = new Map<string, Position>();
  const { parseTOML } = require("toml-eslint-parser") as { parseTOML: typeof ParseTOML };
  try {
    // smol-toml reads TOML 1.1 (e.g. newlines in inline tables); the locator must read it too.
    const top = parseTOML(source, { tomlVersion: "1.1" }).body[0];
    for (const node of top.body) {
      if (node.type === "TOMLKeyValue") walkBody([], [node], out);
      else {
        // a header locates the tables it implies too: [a.b] locates a, [[projects]] (["projects", 0]) projects
        locateAll(node.resolvedKey, at(node), out);
        walkBody(node.resolvedKey, node.body, out);
      }
    }
  } catch {
    // An unparsable file has no positions beyond the syntax error already reported.
  }
  return (path) => {
    for (let n = path.length; n > 0; n--) {
      const hit = out.get(path.slice(0, n).join("\0"));
      if (hit) return hit;
    }
    return { line: 1, col: 1 };
  };
}
