// Unit tests of the comment-preserving fleet.toml editor.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffLines } from "diff";
import { parse } from "smol-toml";
import { addTable, setKey } from "../src/registry/edit-fleet.js";

const BASE = `#:schema ./schema/fleet.schema.json
# the fleet
version = 1

[projects.alpha]   # alpha's table
location = "../alpha"
enabled = true     # keep it running
ref = "v0.1.0"

[projects."beta.x"]
location = "../beta"
ref = 'v1'

[projects.empty]

[projects]
gamma.location = "../gamma"
gamma.enabled = false
`;

/** What changed from BASE to `out`, line by line: "-old" and "+new" lines, in order. */
function changes(out: string): string[] {
  return diffLines(BASE, out).flatMap((c) =>
    c.added || c.removed
      ? c.value
          .replace(/\n$/, "")
          .split("\n")
          .map((l) => `${c.added ? "+" : "-"}${l}`)
      : [],
  );
}

describe("setKey", () => {
  const cases: {
    name: string;
    table: string[];
    key: string;
    value: string | boolean;
    change: string[];
  }[] = [
    {
      name: "replaces a value and keeps its inline comment",
      table: ["projects", "alpha"],
      key: "enabled",
      value: false,
      change: ["-enabled = true     # keep it running", "+enabled = false     # keep it running"],
    },
    {
      name: "replaces a string value",
      table: ["projects", "alpha"],
      key: "ref",
      value: "v0.2.0",
      change: ['-ref = "v0.1.0"', '+ref = "v0.2.0"'],
    },
    {
      name: "replaces a literal string under a quoted key",
      table: ["projects", "beta.x"],
      key: "ref",
      value: "v2",
      change: ["-ref = 'v1'", '+ref = "v2"'],
    },
    {
      name: "adds a missing key after the table's last key",
      table: ["projects", "beta.x"],
      key: "enabled",
      value: false,
      change: ["+enabled = false"],
    },
    {
      name: "adds a key to an empty table",
      table: ["projects", "empty"],
      key: "enabled",
      value: true,
      change: ["+enabled = true"],
    },
    {
      name: "replaces a dotted key",
      table: ["projects", "gamma"],
      key: "enabled",
      value: true,
      change: ["-gamma.enabled = false", "+gamma.enabled = true"],
    },
    {
      name: "escapes strings",
      table: ["projects", "alpha"],
      key: "ref",
      value: 'a"b\\c',
      change: ['-ref = "v0.1.0"', '+ref = "a\\"b\\\\c"'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = setKey(BASE, c.table, c.key, c.value);
      // exactly this changed, every other byte (comments, blank lines, order) kept
      assert.deepEqual(changes(out), c.change);
      const t = c.table.reduce((o: any, k) => o[k], parse(out));
      assert.equal(
        c.key.split(".").reduce((o: any, k) => o[k], t),
        c.value,
        "the new value parses back",
      );
    });
  }
  it("adds the key right after the table's last key, not elsewhere", () => {
    const out = setKey(BASE, ["projects", "beta.x"], "enabled", false);
    assert.match(out, /ref = 'v1'\nenabled = false\n\n\[projects\.empty\]/);
    assert.match(
      setKey(BASE, ["projects", "empty"], "enabled", true),
      /\[projects\.empty\]\nenabled = true\n\n\[projects\]/,
    );
  });
  it("refuses a table that does not exist", () => {
    assert.throws(() => setKey(BASE, ["projects", "nope"], "enabled", true), /no \[projects\.nope\] table/);
  });
});

describe("addTable", () => {
  it("appends a table after one blank line and keeps the rest byte for byte", () => {
    const out = addTable(BASE, ["projects", "newp"], {
      location: "../newp",
      harness: "h",
      ref: "v0.1.0",
      enabled: true,
    });
    assert.ok(out.startsWith(BASE));
    assert.equal(
      out.slice(BASE.length),
      `\n[projects.newp]\nlocation = "../newp"\nharness = "h"\nref = "v0.1.0"\nenabled = true\n`,
    );
  });
  it("adds the missing final newline first", () => {
    assert.equal(addTable("version = 1", ["projects", "a"], { ref: "x" }), `version = 1\n\n[projects.a]\nref = "x"\n`);
  });
});
