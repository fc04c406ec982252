// Checks src/api/types.ts against the API's OpenAPI document, so a renamed or added field in
// api/schemas/*.py shows up as a failed check instead of a blank spot in the console.
//
//   node scripts/check-openapi.mjs [URL or file]     (default http://127.0.0.1:8000/openapi.json)
//
// For every interface in types.ts named like a component schema: the same property names; for request
// bodies (*Create), the same optional ones. For every string-literal union named like an enum schema:
// the same values. Exits 1 and lists the differences when there are any.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import ts from "typescript";

// TS names that differ from the schema's name.
const SCHEMA_NAME = { StoredRole: "Role" };

async function loadSpec(where) {
  if (/^https?:\/\//.test(where)) {
    const response = await fetch(where);
    if (!response.ok) throw new Error(`GET ${where}: HTTP ${response.status}`);
    return response.json();
  }
  return JSON.parse(readFileSync(where, "utf8"));
}

function declaredTypes(file) {
  const program = ts.createProgram([file], { strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(file));
  const found = new Map();
  for (const symbol of checker.getExportsOfModule(module)) {
    if (symbol.flags & ts.SymbolFlags.Interface) {
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      const props = checker.getPropertiesOfType(type).map((p) => ({
        name: p.getName(),
        optional: (p.flags & ts.SymbolFlags.Optional) !== 0,
      }));
      found.set(symbol.getName(), { kind: "object", props });
    } else if (symbol.flags & ts.SymbolFlags.TypeAlias) {
      const type = checker.getDeclaredTypeOfSymbol(symbol);
      const members = type.isUnion() ? type.types : [type];
      if (members.every((m) => m.isStringLiteral())) {
        found.set(symbol.getName(), { kind: "enum", values: members.map((m) => m.value) });
      }
    }
  }
  return found;
}

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

const where = process.argv[2] ?? "http://127.0.0.1:8000/openapi.json";
const spec = await loadSpec(where);
const schemas = spec.components?.schemas ?? {};
const typesFile = join(dirname(fileURLToPath(import.meta.url)), "..", "src", "api", "types.ts");
const problems = [];
let checked = 0;

for (const [tsName, declared] of declaredTypes(typesFile)) {
  const schemaName = SCHEMA_NAME[tsName] ?? tsName;
  const schema = schemas[schemaName];
  if (!schema) continue; // a console-only type, or a schema no route uses (SSE event payloads)
  checked += 1;
  if (declared.kind === "enum") {
    if (!schema.enum || !sameSet(declared.values, schema.enum)) {
      problems.push(`${tsName}: values ${JSON.stringify(declared.values)}, API ${JSON.stringify(schema.enum)}`);
    }
    continue;
  }
  const apiProps = Object.keys(schema.properties ?? {});
  const tsProps = declared.props.map((p) => p.name);
  const missing = apiProps.filter((p) => !tsProps.includes(p));
  const extra = tsProps.filter((p) => !apiProps.includes(p));
  if (missing.length) problems.push(`${tsName}: missing ${missing.join(", ")}`);
  if (extra.length) problems.push(`${tsName}: not in the API: ${extra.join(", ")}`);
  if (tsName.endsWith("Create")) {
    const required = schema.required ?? [];
    for (const p of declared.props.filter((d) => apiProps.includes(d.name))) {
      if (p.optional === required.includes(p.name)) {
        problems.push(`${tsName}.${p.name}: ${p.optional ? "optional" : "required"} here, not in the API`);
      }
    }
  }
}

if (checked === 0) problems.push(`no type of types.ts matches a schema of ${where}`);
if (problems.length) {
  console.error(`src/api/types.ts differs from ${where}:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`src/api/types.ts matches ${where} (${checked} types checked)`);
