// The types in src/registry/generated/ are generated from schema/ by scripts/gen-types.mjs
// (json-schema-to-typescript). This suite fails when the checked-in files are stale, and proves that
// it can fail: a changed schema yields different types, and --check then exits 1.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SCRIPT = join(ROOT, "scripts", "gen-types.mjs");
const NAMES = ["fleet", "agents"] as const;

type Generate = (name: string) => Promise<string>;

async function generatorAt(script: string): Promise<Generate> {
  const mod = (await import(pathToFileURL(script).href)) as { generate: Generate };
  assert.equal(typeof mod.generate, "function", "scripts/gen-types.mjs exports generate()");
  return mod.generate;
}

function checkedIn(name: string, root = ROOT): string {
  return readFileSync(join(root, "src", "registry", "generated", `${name}.ts`), "utf8");
}

function runCheck(script: string) {
  const r = spawnSync(process.execPath, [script, "--check"], { encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return r;
}

describe("generated types", () => {
  it("node scripts/gen-types.mjs --check exits 0: src/registry/generated/ is fresh", () => {
    const r = runCheck(SCRIPT);
    assert.equal(r.status, 0, `src/registry/generated/ is stale (run npm run gen):\n${r.stderr}`);
    assert.equal(r.stderr, "");
  });

  it("generate() reproduces every checked-in file byte for byte", async () => {
    const generate = await generatorAt(SCRIPT);
    for (const name of NAMES)
      assert.equal(
        await generate(name),
        checkedIn(name),
        `src/registry/generated/${name}.ts is stale: run npm run gen`,
      );
  });
});

describe("the staleness check can fail", () => {
  // A copy of the generator beside modified copies of the schemas: generate() reads ../schema/ next
  // to the script, so the copy runs the real generator code on the changed schema. node_modules is
  // linked so that the copy resolves json-schema-to-typescript.
  let dir: string;
  const changed = (schema: string) => {
    const s = JSON.parse(schema) as { definitions: { project: { properties: Record<string, unknown> } } };
    s.definitions.project.properties.color = { description: "A field that does not exist.", type: "string" };
    return JSON.stringify(s, null, 2);
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "po-gen-types-"));
    for (const sub of ["scripts", "schema", join("src", "registry", "generated")])
      mkdirSync(join(dir, sub), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    copyFileSync(SCRIPT, join(dir, "scripts", "gen-types.mjs"));
    for (const name of NAMES) {
      const schema = readFileSync(join(ROOT, "schema", `${name}.schema.json`), "utf8");
      writeFileSync(join(dir, "schema", `${name}.schema.json`), name === "fleet" ? changed(schema) : schema);
      copyFileSync(
        join(ROOT, "src", "registry", "generated", `${name}.ts`),
        join(dir, "src", "registry", "generated", `${name}.ts`),
      );
    }
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("a modified schema generates types that differ from the checked-in ones", async () => {
    const generate = await generatorAt(join(dir, "scripts", "gen-types.mjs"));
    const fleet = await generate("fleet");
    assert.notEqual(fleet, checkedIn("fleet"));
    assert.match(fleet, /color\?: string;/, "the new property is in the generated type");
    assert.equal(
      await generate("agents"),
      checkedIn("agents"),
      "the unchanged schema still generates the checked-in file",
    );
  });

  it("--check exits 1 and names the stale file", () => {
    const r = runCheck(join(dir, "scripts", "gen-types.mjs"));
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /src\/registry\/generated\/fleet\.ts is stale/);
    assert.doesNotMatch(r.stderr, /agents\.ts/);
  });
});
