/** Every `durian <command> --help` prints that command's own usage, not the global one (the real CLI bundle). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

const cli = path.resolve(__dirname, '../../dist/cli.js');

function help(command: string): { code: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout };
}

describe('durian <command> --help', () => {
  for (const command of ['train', 'demo', 'advantages', 'bench', 'score', 'proxy', 'study', 'export-tasks']) {
    it(`${command} --help is ${command}'s own usage`, () => {
      const { code, stdout } = help(command);
      assert.equal(code, 0);
      assert.ok(!stdout.includes('Commands:'), `${command} --help prints the global usage:\n${stdout}`);
      assert.match(stdout, new RegExp(`durian ${command}\\b`), stdout);
    });
  }

  it('demo --help lists its options with their defaults', () => {
    const { stdout } = help('demo');
    for (const option of ['--prompts N', '--group-size G', '--seed S']) assert.ok(stdout.includes(option), option);
  });

  it('bench --help lists every suite by name', () => {
    const { stdout } = help('bench');
    for (const suite of ['core', 'encoder', 'policy', 'messages']) assert.match(stdout, new RegExp(`^ {2}${suite} +\\S`, 'm'), suite);
  });
});
