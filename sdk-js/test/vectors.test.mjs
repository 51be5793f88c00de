// Every case of specs/vectors/index.json: the outcome code the Rust verifier must produce, and
// for format errors the field it names; `cli_expect` cases also through the clock check.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { checkNotFuture, parseProof, verifyProof, VerifyError } from '../dist/index.js';
import { VECTORS } from './helpers/cli.mjs';

const index = JSON.parse(readFileSync(join(VECTORS, 'index.json'), 'utf8'));

test(`specs/vectors/index.json has cases (${index.length})`, () => {
  assert.ok(index.length >= 44, `expected at least 44 cases, found ${index.length}`);
});

for (const c of index) {
  test(`vector ${c.name}: ${c.expect}`, () => {
    const proof = readFileSync(join(VECTORS, c.proof));
    const genesis = readFileSync(join(VECTORS, c.genesis), 'utf8');
    const out = verifyProof(proof, genesis);
    assert.equal(out.ok ? 'ok' : out.code, c.expect, out.ok ? '' : out.message);
    if (c.field !== undefined) assert.equal(out.field, c.field);
    if (c.cli_expect !== undefined) {
      // The CLI's clock check (specs/proof.md §5), with today's clock.
      const now = BigInt(Date.now()) * 1_000_000n;
      assert.throws(
        () => checkNotFuture(parseProof(proof), now),
        (e) => e instanceof VerifyError && e.code === c.cli_expect,
      );
    }
  });
}

test('the same proof as text and as bytes gives the same outcome', () => {
  const c = index.find((x) => x.name === 'valid-3of4');
  const bytes = readFileSync(join(VECTORS, c.proof));
  const genesis = readFileSync(join(VECTORS, c.genesis));
  const a = verifyProof(bytes, genesis);
  const b = verifyProof(bytes.toString('utf8'), genesis.toString('utf8'));
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.result, b.result);
});
