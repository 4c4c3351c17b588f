import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/start-gateway';

/** dist/test/integration → test/fixtures/integration (YAML fixtures are not compiled). */
const FIXTURES = resolve(__dirname, '../../../test/fixtures/integration');

/** `<file>:<line>:<col>: <field path>: <message>`, optionally indented. */
const PROBLEM_LINE = /^\s*(.+):(\d+):(\d+): (\S+): (.+)$/;

function problems(stderr: string, file: string): Array<{ line: number; column: number; path: string; message: string }> {
  return stderr
    .split('\n')
    .map((l) => PROBLEM_LINE.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === file)
    .map((m) => ({ line: Number(m[2]), column: Number(m[3]), path: m[4] as string, message: m[5] as string }));
}

describe('hyperway check', () => {
  it('exits 0 for a valid file', async () => {
    const r = await runCli(['check', '--config', `${FIXTURES}/valid.kong.yml`]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('exits 1 and lists every problem with file, line, column and field path', async () => {
    const file = `${FIXTURES}/three-errors.kong.yml`;
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1, r.stderr);
    const found = problems(r.stderr, file);
    assert.deepEqual(
      found.map((p) => [p.line, p.path]).sort(),
      [
        [12, 'services[1].protocol'],
        [5, 'services[0].retries'],
        [9, 'services[0].routes[0].paths[0]'],
      ],
      r.stderr,
    );
    for (const p of found) {
      assert.ok(p.column >= 1, `column ${p.column}`);
      assert.ok(p.message.length > 0);
    }
  });

  it('exits 1 with a line number for a YAML syntax error', async () => {
    const file = `${FIXTURES}/bad-yaml.kong.yml`;
    const r = await runCli(['check', '--config', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
  });

  it('exits 1 when the file does not exist', async () => {
    const r = await runCli(['check', '--config', `${FIXTURES}/does-not-exist.yml`]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /does-not-exist\.yml/);
  });
});
