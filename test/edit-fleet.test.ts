// Unit tests of the comment-preserving fleet.toml editor.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
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

describe("setKey", () => {
  const cases: {
    name: string;
    table: string[];
    key: string;
    value: string | boolean;
    expect: (out: string) => void;
  }[] = [
    {
      name: "replaces a value and keeps its inline comment",
      table: ["projects", "alpha"],
      key: "enabled",
      value: false,
      expect: (o) => assert.match(o, /^enabled = false {5}# keep it running$/m),
    },
    {
      name: "replaces a string value",
      table: ["projects", "alpha"],
      key: "ref",
      value: "v0.2.0",
      expect: (o) => assert.match(o, /^ref = "v0\.2\.0"$/m),
    },
    {
      name: "replaces a literal string under a quoted key",
      table: ["projects", "beta.x"],
      key: "ref",
      value: "v2",
      expect: (o) => assert.match(o, /^ref = "v2"$/m),
    },
    {
      name: "adds a missing key after the table's last key",
      table: ["projects", "beta.x"],
      key: "enabled",
      value: false,
      expect: (o) => assert.match(o, /ref = 'v1'\nenabled = false\n/),
    },
    {
      name: "adds a key to an empty table",
      table: ["projects", "empty"],
      key: "enabled",
      value: true,
      expect: (o) => assert.match(o, /\[projects\.empty\]\nenabled = true\n/),
    },
    {
      name: "replaces a dotted key",
      table: ["projects", "gamma"],
      key: "enabled",
      value: true,
      expect: (o) => assert.match(o, /^gamma\.enabled = true$/m),
    },
    {
      name: "escapes strings",
      table: ["projects", "alpha"],
      key: "ref",
      value: 'a"b\\c',
      expect: (o) => assert.equal((parse(o) as any).projects.alpha.ref, 'a"b\\c'),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = setKey(BASE, c.table, c.key, c.value);
      c.expect(out);
      // Only that one line changed or was added; every comment survives.
      for (const comment of BASE.match(/#.*$/gm)!) assert.ok(out.includes(comment), comment);
      const before = BASE.split("\n");
      const after = out.split("\n");
      assert.ok(after.length - before.length <= 1);
      assert.ok(after.filter((l, i) => l !== before[i]).length >= 1);
      assert.deepEqual(parse(out).version, 1);
    });
  }
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
