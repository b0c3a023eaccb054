// Unit tests of the TOML locator: where each way TOML writes a key, a table or an array element
// stands, and where a path that the file does not hold falls back to.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { locator } from "../src/registry/toml-locate.js";

describe("locator", () => {
  const cases: [string, string, (string | number)[], string][] = [
    ["a key of a table", "v = 1\n\n[a]\nx = 1\n", ["a", "x"], "4:1"],
    ["a table header", "v = 1\n\n[a]\nx = 1\n", ["a"], "3:1"],
    ["a quoted key", 'v = 1\n[a]\n"b.c" = 2\n', ["a", "b.c"], "3:1"],
    ["a quoted header", 'v = 1\n[a."b.c"]\nx = 2\n', ["a", "b.c", "x"], "3:1"],
    ["a dotted key locates the tables it implies", "v = 1\n  a.b.c = 1\n", ["a", "b"], "2:3"],
    ["a header locates the tables it implies", "v = 1\n[a.b]\nc = 1\n", ["a"], "2:1"],
    ["a table is where it is first named", "v = 1\n[a.b]\nx = 1\n[a]\ny = 2\n", ["a"], "2:1"],
    ["a sub-table after its table", "v = 1\n[a]\nx = 1\n[a.b]\ny = 2\n", ["a", "b"], "4:1"],
    ["an element of an array", "a = [[1, 2], [3, 4]]\n", ["a", 1], "1:14"],
    ["an element of a nested array", "a = [[1, 2], [3, 4]]\n", ["a", 1, 0], "1:15"],
    ["a key of an inline table", "p = { q = { r = 1 } }\n", ["p", "q", "r"], "1:13"],
    ["a key of a multi-line inline table (TOML 1.1)", "v = 1\np = {\n  q = 1,\n}\n", ["p", "q"], "3:3"],
    ["an array of tables", "v = 1\n[[projects]]\nx = 1\n[[projects]]\nx = 2\n", ["projects"], "2:1"],
    ["a key of its second table", "v = 1\n[[projects]]\nx = 1\n[[projects]]\nx = 2\n", ["projects", 1, "x"], "5:1"],
    ["a path the file lacks: its nearest ancestor", "v = 1\n[a]\nx = 1\n", ["a", "nope", "deeper"], "2:1"],
    // an empty key is a key like any other, never the place of a missing one
    ["a path with no ancestor in the file: line 1", 'v = 1\n"" = 2\n', ["nope"], "1:1"],
    ["an unparsable file: line 1", "v = 1\n[a\nx = ", ["a"], "1:1"],
  ];
  for (const [name, source, path, want] of cases)
    it(name, () => {
      const { line, col } = locator(source)(path);
      assert.equal(`${line}:${col}`, want);
    });
});
