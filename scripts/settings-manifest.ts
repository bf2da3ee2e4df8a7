/**
 * Writes what the settings table (src/protocol/settings.ts) defines outside src/protocol: package.json's
 * `contributes.configuration` (replacing only that block's text; test/protocol/settings.test.ts fails when they
 * differ) and the settings' fields of schemas/config.schema.json (test/unit/schemas.test.ts fails when they differ).
 * Usage: node --import tsx scripts/settings-manifest.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runConfigSchemaFields, vscodeConfiguration } from '../src/protocol/settings.js';

const file = path.resolve(__dirname, '..', 'package.json');
const text = readFileSync(file, 'utf8');
const opening = '\n    "configuration": ';
const start = text.indexOf(opening);
if (start < 0 || text.indexOf(opening, start + 1) >= 0) throw new Error(`expected one "configuration" block in ${file}`);
// The block ends at the brace that closes its opening one.
let depth = 0;
let end = start + opening.length;
do {
  const char = text[end];
  if (char === '"') {
    // Skip the string, escapes included.
    for (end++; text[end] !== '"'; end++) if (text[end] === '\\') end++;
  } else if (char === '{') depth++;
  else if (char === '}') depth--;
  end++;
} while (depth > 0);
const block = JSON.stringify(vscodeConfiguration(), null, 2).replace(/\n/g, '\n    ');
const updated = `${text.slice(0, start + opening.length)}${block}${text.slice(end)}`;
JSON.parse(updated);
if (updated === text) console.log('package.json: contributes.configuration is up to date');
else {
  writeFileSync(file, updated);
  console.log('package.json: contributes.configuration rewritten from the settings table');
}

// schemas/config.schema.json: the table's settings in its order, `estimatorOptions` (its own fields kept) after `estimator`.
const schemaFile = path.resolve(__dirname, '..', 'schemas', 'config.schema.json');
const schemaText = readFileSync(schemaFile, 'utf8');
const schema = JSON.parse(schemaText) as { properties: Record<string, Record<string, unknown>> };
const fields = runConfigSchemaFields();
const properties: Record<string, unknown> = {};
for (const [name, field] of Object.entries(fields.config)) {
  properties[name] = field;
  if (name === 'estimator') properties.estimatorOptions = { ...schema.properties.estimatorOptions, properties: fields.estimatorOptions };
}
const schemaUpdated = `${JSON.stringify({ ...schema, properties }, null, 2)}\n`;
if (schemaUpdated === schemaText) console.log('schemas/config.schema.json: the settings are up to date');
else {
  writeFileSync(schemaFile, schemaUpdated);
  console.log('schemas/config.schema.json: the settings rewritten from the settings table');
}
