// Generates src/registry/generated/*.ts from schema/*.json; `--check` exits 1 when the checked-in files are stale.
import { readFile, writeFile } from "node:fs/promises";
import { compile } from "json-schema-to-typescript";

const schemas = { fleet: "Fleet", agents: "Agents" };
const banner = "/* Generated from schema/ by `npm run gen` (json-schema-to-typescript). Do not edit. */";

export async function generate(name) {
  const schema = JSON.parse(await readFile(new URL(`../schema/${name}.schema.json`, import.meta.url), "utf8"));
  return compile(schema, schemas[name], {
    bannerComment: banner,
    additionalProperties: false,
    style: { singleQuote: false },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const check = process.argv.includes("--check");
  let stale = false;
  for (const name of Object.keys(schemas)) {
    const target = new URL(`../src/registry/generated/${name}.ts`, import.meta.url);
    const text = await generate(name);
    if (!check) await writeFile(target, text);
    else if (text !== (await readFile(target, "utf8").catch(() => ""))) {
      console.error(`src/registry/generated/${name}.ts is stale: run npm run gen`);
      stale = true;
    }
  }
  process.exit(stale ? 1 : 0);
}
