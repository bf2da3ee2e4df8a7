/**
 * Exports, on real bytes: rollout groups as CSV (quotes, commas and line breaks in response texts survive a
 * round trip through an RFC 4180 reader) and as Parquet (read back with hyparquet: the columns and every row),
 * the file names offered, a chart's SVG and PNG payloads, and the export messages' checks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { GROUP_EXPORT_COLUMNS, csvField, groupsToCsv, groupsToParquet } from '../../src/extension/exportGroups.js';
import { chartExportFile, groupsExportFile, safeFileName, writeExport } from '../../src/extension/exportFiles.js';
import { parseChartExport, parseGroupsExport } from '../../src/protocol/compareExport.js';
import type { RolloutGroup } from '../../src/protocol/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'durian-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const HOSTILE = 'He said "no, thanks",\nthen left\r\n; =SUM(A1) ü';

function group(promptId: string, responses: string[], weight = 1): RolloutGroup {
  return {
    promptId,
    question: `Which is larger, ${promptId}?`,
    groundTruth: '42',
    image: `images/${promptId}.png`,
    visualEntropy: 1.25,
    confidence: -0.5,
    perceptualBucket: 'mid',
    reasoningBin: 2,
    groupStd: 0.5,
    perceptualPooledStd: 0.4,
    reasoningPooledStd: 0.3,
    weight,
    excluded: weight === 0,
    rollouts: responses.map((response, i) => ({
      response,
      reward: i % 2,
      format: 1,
      accuracy: i % 2,
      meanLogprob: -1.5 - i,
      advantage: i % 2 === 0 ? -0.75 : 0.75,
      advantageGrpo: i % 2 === 0 ? -1 : 1,
      ...(i === 1 ? { relabeled: true } : {}),
    })),
  };
}

const GROUPS = [group('p-1', [HOSTILE, 'plain']), group('p-2', ['a,b', '"quoted"', ''], 0)];

/** A small RFC 4180 reader (quoted fields, doubled quotes, CRLF records), to read the CSV back. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

describe('rollout groups as CSV', () => {
  it('quotes a field with a comma, a quote or a line break, and only those', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\rhere'), '"cr\rhere"');
    assert.equal(csvField(1.5), '1.5');
    assert.equal(csvField(false), 'false');
  });

  it('one row per rollout; every response text reads back exactly', () => {
    const rows = readCsv(groupsToCsv(GROUPS, 12));
    assert.deepEqual(rows[0], [...GROUP_EXPORT_COLUMNS]);
    assert.equal(rows.length, 1 + 5);
    const column = (name: string) => rows.slice(1).map((row) => row[GROUP_EXPORT_COLUMNS.indexOf(name)]);
    assert.deepEqual(column('response'), [HOSTILE, 'plain', 'a,b', '"quoted"', '']);
    assert.deepEqual(column('prompt_id'), ['p-1', 'p-1', 'p-2', 'p-2', 'p-2']);
    assert.deepEqual(column('step'), ['12', '12', '12', '12', '12']);
    assert.deepEqual(column('advantage'), ['-0.75', '0.75', '-0.75', '0.75', '-0.75']);
    assert.deepEqual(column('relabeled'), ['false', 'true', 'false', 'true', 'false']);
    assert.deepEqual(column('excluded'), ['false', 'false', 'true', 'true', 'true']);
    for (const row of rows) assert.equal(row.length, GROUP_EXPORT_COLUMNS.length);
  });
});

describe('rollout groups as Parquet', () => {
  it('reads back with hyparquet: the columns, their types and every row', async () => {
    const bytes = groupsToParquet(GROUPS, 7);
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString(), 'PAR1');
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    assert.equal(rows.length, 5);
    assert.deepEqual(Object.keys(rows[0]), [...GROUP_EXPORT_COLUMNS]);
    assert.deepEqual(rows.map((row) => row.response), [HOSTILE, 'plain', 'a,b', '"quoted"', '']);
    assert.deepEqual(rows.map((row) => row.step), [7, 7, 7, 7, 7]);
    assert.deepEqual(rows.map((row) => row.rollout), [0, 1, 0, 1, 2]);
    assert.deepEqual(rows.map((row) => row.advantage_grpo), [-1, 1, -1, 1, -1]);
    assert.deepEqual(rows.map((row) => row.group_weight), [1, 1, 0, 0, 0]);
    assert.deepEqual(rows.map((row) => row.relabeled), [false, true, false, true, false]);
    assert.equal(rows[0].perceptual_bucket, 'mid');
    assert.equal(rows[0].visual_entropy, 1.25);
  });

  it('an empty selection is a valid file with the columns and no rows', async () => {
    const bytes = groupsToParquet([], 0);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    assert.equal(rows.length, 0);
  });
});

describe('export messages and files', () => {
  it('a groups export: checked, named after the run and step, written where asked', () => {
    const parsed = parseGroupsExport({ type: 'groups/export', format: 'csv', step: 12, runName: 'run a/b', groups: GROUPS });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const file = groupsExportFile(parsed.value);
    assert.equal(file.defaultName, 'run-a-b-step-000012-groups.csv');
    assert.deepEqual(file.filters, { 'CSV (comma-separated values)': ['csv'] });
    const target = path.join(dir, file.defaultName);
    assert.equal(writeExport(file, target), undefined);
    assert.equal(readFileSync(target, 'utf8'), groupsToCsv(GROUPS, 12));
    assert.match(writeExport(file, 'relative.csv') ?? '', /relative\.csv is not an absolute path: nothing was saved/);
    assert.match(writeExport(file, path.join(dir, 'missing', 'x.csv')) ?? '', /could not save .*missing.*x\.csv/);
  });

  it('a bad groups export is refused with where and why', () => {
    const bad = parseGroupsExport({ type: 'groups/export', format: 'xlsx', step: 1, runName: 'r', groups: [] });
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /format: must be one of "csv", "parquet", got "xlsx"/);
    const badGroup = parseGroupsExport({ type: 'groups/export', format: 'csv', step: 1, runName: 'r', groups: [{ ...GROUPS[0], weight: -1 }] });
    assert.match(badGroup.ok ? '' : badGroup.error, /groups\[0\]\.weight/);
  });

  it('a chart export: SVG text and PNG bytes as sent, refused when they are not what they say', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>';
    const parsedSvg = parseChartExport({ type: 'chart/export', format: 'svg', name: 'compare-reward train', data: svg });
    assert.ok(parsedSvg.ok);
    const svgFile = chartExportFile(parsedSvg.value);
    assert.equal(svgFile.defaultName, 'compare-reward-train.svg');
    assert.equal(Buffer.from(svgFile.bytes).toString('utf8'), svg);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]).toString('base64');
    const parsedPng = parseChartExport({ type: 'chart/export', format: 'png', name: 'reward', data: png });
    assert.ok(parsedPng.ok);
    assert.deepEqual([...chartExportFile(parsedPng.value).bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    const notBase64 = parseChartExport({ type: 'chart/export', format: 'png', name: 'reward', data: `data:image/png;base64,${png}` });
    assert.match(notBase64.ok ? '' : notBase64.error, /chart\/export\.data: must be base64 without a data: prefix/);
    const notSvg = parseChartExport({ type: 'chart/export', format: 'svg', name: 'reward', data: '<script>alert(1)</script>' });
    assert.match(notSvg.ok ? '' : notSvg.error, /must start with <svg/);
  });

  it('file names keep only safe characters', () => {
    assert.equal(safeFileName('../../etc/passwd'), 'etc-passwd');
    assert.equal(safeFileName('Extreme advantages |A| > 2'), 'Extreme-advantages-A-2');
    assert.equal(safeFileName('///'), 'export');
  });
});
