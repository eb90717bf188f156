// Validates an AsyncAPI document with @asyncapi/parser; prints diagnostics as JSON, exits 1 on errors.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const text = readFileSync(process.argv[2], "utf8");
const { document, diagnostics } = await new Parser().parse(text);
const shown = diagnostics.map((d) => ({ severity: d.severity, code: d.code, message: d.message, path: d.path }));
console.log(JSON.stringify({ parsed: document !== undefined, diagnostics: shown }, null, 1));
process.exit(document !== undefined && !diagnostics.some((d) => d.severity === 0) ? 0 : 1);
