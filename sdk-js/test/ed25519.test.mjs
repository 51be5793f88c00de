// The Ed25519 rule: this package's `verifyStrict` reproduces ed25519-dalek's `verify_strict`
// on cases where lenient verification (noble's ZIP-215 default, and even noble's
// `{ zip215: false }`) says otherwise (test/vectors/ed25519-strict.json), and the genesis key
// rule (decompresses, not of small order) as dalek's `from_bytes` + `is_weak`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { sha512 } from '@noble/hashes/sha2.js';
import * as ed from '@noble/ed25519';
import { keyProblem, parseKey, verifyStrict } from '../dist/index.js';
import { decodeHex } from '../dist/hex.js';
import { toLe, T8 } from './helpers/ed25519-craft.mjs';

ed.hashes.sha512 = sha512;
const vectors = JSON.parse(readFileSync(new URL('./vectors/ed25519-strict.json', import.meta.url), 'utf8'));
const hex = (s) => decodeHex(s, s.length / 2);

test('the strict vectors include cases where strict and lenient disagree', () => {
  const disagree = vectors.cases.filter((c) => c.strict !== c.noble_zip215);
  assert.ok(disagree.length >= 5, `${disagree.length} disagreeing cases`);
  const beyondNobleStrict = vectors.cases.filter((c) => c.strict !== c.noble_strict);
  assert.ok(beyondNobleStrict.length >= 3, 'cases where noble { zip215: false } alone is not strict enough');
});

for (const c of vectors.cases) {
  test(`ed25519 ${c.name}: strict ${c.strict}, ZIP-215 ${c.noble_zip215}`, () => {
    const key = hex(c.public_key);
    const msg = hex(c.message);
    const sig = hex(c.signature);
    const parsed = parseKey(key);
    assert.ok(parsed !== null, 'every vector key decompresses');
    assert.equal(verifyStrict(parsed, msg, sig), c.strict, c.description);
    // The recorded lenient verdicts still hold for this noble version: the case is a real
    // disagreement, not a stale file.
    assert.equal(ed.verify(sig, msg, key), c.noble_zip215, 'noble ZIP-215');
    assert.equal(ed.verify(sig, msg, key, { zip215: false }), c.noble_strict, 'noble { zip215: false }');
  });
}

test('genesis key rule: small order and undecodable refused, mixed order and y >= p accepted', () => {
  const P = (1n << 255n) - 19n;
  assert.equal(keyProblem(T8.toBytes()), 'weak (small-order) Ed25519 key');
  assert.equal(keyProblem(toLe(1n)), 'weak (small-order) Ed25519 key'); // the identity
  assert.equal(keyProblem(toLe(P + 1n)), 'weak (small-order) Ed25519 key'); // identity, y = p + 1
  assert.equal(keyProblem(toLe(2n)), 'not a valid Ed25519 point'); // y = 2 is no curve point
  assert.equal(keyProblem(toLe(P + 3n)), null); // y = p + 3: read mod p, mixed order, not weak
  const mixed = vectors.cases.find((c) => c.name === 'mixed-order-key');
  assert.equal(keyProblem(hex(mixed.public_key)), null);
});
