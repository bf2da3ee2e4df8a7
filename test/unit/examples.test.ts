/** The shipped example session configs are valid trainer configs and documented as they are. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseTrainConfig } from '../../src/trainer/config.js';

const examples = path.resolve(__dirname, '../../examples');
const configs = readdirSync(examples).filter((name) => name.endsWith('.durian.json'));
const readme = readFileSync(path.join(examples, 'README.md'), 'utf8');

describe('examples/*.durian.json', () => {
  it('ships at least one example', () => assert.ok(configs.length > 0));

  for (const name of configs) {
    const raw = JSON.parse(readFileSync(path.join(examples, name), 'utf8')) as Record<string, unknown>;

    it(`${name} parses with the trainer's own config parser, every field kept as written`, () => {
      const parsed = parseTrainConfig(raw) as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(raw)) {
        if (field === 'estimatorOptions') {
          const options = parsed.estimatorOptions as Record<string, unknown>;
          for (const [key, option] of Object.entries(value as Record<string, unknown>)) assert.deepEqual(options[key], option, `estimatorOptions.${key}`);
        } else {
          assert.deepEqual(parsed[field], value, field);
        }
      }
    });

    it(`${name} is documented in examples/README.md, field by field with its value`, () => {
      assert.ok(readme.includes(`## \`${name}\``), `a section for ${name}`);
      const section = readme.slice(readme.indexOf(`## \`${name}\``));
      for (const [field, value] of Object.entries(raw)) {
        const row = section.split('\n').find((line) => line.startsWith(`| \`${field}\` |`));
        assert.ok(row, `${field} has a row`);
        const cell = row.split('|')[2].trim().replace(/^`|`$/g, '');
        assert.deepEqual(JSON.parse(cell), value, `${field}: the README says ${cell}`);
      }
    });
  }
});
