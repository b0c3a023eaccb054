// Unit tests of the comment-preserving fleet.toml editor: setKey, addTable and removeTable on text.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { diffLines } from "diff";
import { parse } from "smol-toml";
import { addTable, removeTable, setKey } from "../src/registry/edit-fleet.js";

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

describe("setKey on every way TOML writes a table", () => {
  const cases: { name: string; source: string; table?: string[]; want: string }[] = [
    {
      name: "inline table: a new key goes in before the brace",
      source: `[projects]\na = { ref = "x" }\n`,
      want: `[projects]\na = { ref = "x", enabled = false }\n`,
    },
    { name: "empty inline table", source: `[projects]\na = {}\n`, want: `[projects]\na = { enabled = false }\n` },
    {
      name: "inline table: an existing key is replaced in place",
      source: `projects = { a = { enabled = true } }\n`,
      want: `projects = { a = { enabled = false } }\n`,
    },
    {
      name: "top-level dotted keys: a new dotted key after the last",
      source: `projects.a.ref = "x"\nversion = 1\n`,
      want: `projects.a.ref = "x"\nprojects.a.enabled = false\nversion = 1\n`,
    },
    {
      name: "a quoted name under [projects] keeps its quotes",
      source: `[projects]\n"a.b".ref = "x"\n`,
      table: ["projects", "a.b"],
      want: `[projects]\n"a.b".ref = "x"\n"a.b".enabled = false\n`,
    },
    {
      name: "the last table of a file without a final newline",
      source: `[projects.a]\nref = "x"`,
      want: `[projects.a]\nref = "x"\nenabled = false`,
    },
    { name: "an empty table at the very end", source: `[projects.a]`, want: `[projects.a]\nenabled = false` },
    {
      name: "a table with its header indented and a comment on it",
      source: `v = 1\n  [projects.a] # a\n\n[projects.b]\n`,
      want: `v = 1\n  [projects.a] # a\nenabled = false\n\n[projects.b]\n`,
    },
  ];
  for (const c of cases)
    it(c.name, () => assert.equal(setKey(c.source, c.table ?? ["projects", "a"], "enabled", false), c.want));
  it("a project that is not there is refused in one line", () => {
    assert.throws(
      () => setKey(`[projects]\nb = { ref = "x" }\n`, ["projects", "a"], "enabled", false),
      /^Error: fleet.toml has no \[projects\.a\] table to set enabled in \(nothing was written\)$/,
    );
  });
  it("an array of tables, a value, or a name missing from an inline table is no table to set a key in", () => {
    const cases: [string, string[]][] = [
      [`[[projects]]\nref = "x"\n`, ["projects"]],
      [`[projects]\na = 5\n`, ["projects", "a"]],
      [`projects = { b = {} }\n`, ["projects", "a"]],
    ];
    for (const [source, table] of cases)
      assert.throws(
        () => setKey(source, table, "enabled", false),
        /^Error: fleet.toml has no \[.*\] table to set/,
        source,
      );
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

describe("addTable on other files", () => {
  const cases: [string, string, string[], string][] = [
    ["an empty file gets no blank line first", "", ["projects", "a"], `[projects.a]\nref = "x"\n`],
    ["nor does a blank one", "\n", ["projects", "a"], `\n[projects.a]\nref = "x"\n`],
    ["a name that is no bare key is quoted", "v = 1\n", ["projects", "a.b"], `v = 1\n\n[projects."a.b"]\nref = "x"\n`],
  ];
  for (const [name, source, table, want] of cases)
    it(name, () => assert.equal(addTable(source, table, { ref: "x" }), want));
});

describe("removeTable", () => {
  const cases: [string, string, string][] = [
    [
      "with the blank line before it, its header indented",
      `version = 1\n\n  [projects.a]\n  location = "a"\n[projects.b]\nlocation = "b"\n`,
      `version = 1\n[projects.b]\nlocation = "b"\n`,
    ],
    [
      "with the comment on its last line",
      `[projects.a]\nlocation = "a" # here\n[projects.b]\nlocation = "b"\n`,
      `[projects.b]\nlocation = "b"\n`,
    ],
    [
      "the last table of a file without a final newline",
      `version = 1\n\n[projects.a]\nlocation = "a"`,
      `version = 1\n`,
    ],
  ];
  for (const [name, source, want] of cases) it(name, () => assert.equal(removeTable(source, ["projects", "a"]), want));
  it("an array of tables is never removed as a project's table", () => {
    assert.throws(() => removeTable(`[[projects]]\nref = "x"\n`, ["projects", "0"]), /no \[projects\.0\] table/);
  });
});
