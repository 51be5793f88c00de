// The lossless JSON reader and the proof's JSON rules: integers exact past 2^53, serde_json's
// number classes (-0 and floats are not integers), its syntax rules, and the schema's refusals.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { parseProof, ProofFormatError, verifyProof } from '../dist/index.js';
import { parseJson } from '../dist/json.js';
import { VECTORS } from './helpers/cli.mjs';

const valid = readFileSync(join(VECTORS, 'proofs', 'valid-3of4.tcproof'), 'utf8');
const genesis = readFileSync(join(VECTORS, 'genesis-4.json'), 'utf8');
const code = (text) => {
  const out = verifyProof(text, genesis);
  return out.ok ? 'ok' : out.code;
};

test('integers beyond 2^53 are exact', () => {
  const v = parseJson('[1764000010003000001, 18446744073709551615, -9223372036854775808]');
  assert.deepEqual(v.items.map((x) => x.int), [1764000010003000001n, 18446744073709551615n, -9223372036854775808n]);
  assert.equal(parseProof(valid).certificate.votes[0].earliest, 1764000010003000000n);
});

test('number classes follow serde_json', () => {
  const int = (t) => parseJson(t).int;
  assert.equal(int('-0'), null);
  assert.equal(int('1.0'), null);
  assert.equal(int('1e2'), null);
  assert.equal(int('18446744073709551616'), null);
  assert.equal(int('-9223372036854775809'), null);
  assert.equal(int('0'), 0n);
  for (const bad of ['01', '+1', '1.', '.5', '-', '1e', '0x10', 'NaN', 'Infinity']) {
    assert.throws(() => parseJson(bad), undefined, bad);
  }
});

test('syntax serde_json refuses is refused', () => {
  const bad = [
    '\ufeff{}', '{"a":1,}', '[1,]', '{"a" 1}', "{'a':1}", '{"a":1} x', '{"a":"\u0001"}', '"\\x"',
    '"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '/* c */ {}', '{"a":1}{', '[' .repeat(200) + ']'.repeat(200),
  ];
  for (const text of bad) assert.throws(() => parseJson(text), undefined, JSON.stringify(text));
  assert.equal(parseJson('"\\ud83d\\ude00"').value, '\u{1f600}');
  assert.equal(parseJson(' \t\r\n{"a" : [ ] }\n').entries[0][0], 'a');
  assert.equal(parseJson('['.repeat(127) + ']'.repeat(127)).kind, 'array');
});

test('proof JSON: field rules', () => {
  const swap = (from, to) => {
    assert.ok(valid.includes(from), from);
    return valid.replace(from, to);
  };
  assert.equal(code(valid), 'ok');
  // Layout, key order and escapes do not matter.
  assert.equal(code(JSON.stringify(JSON.parse(valid.replace(/(\d{16,})/g, '"$1"'))).replace(/"(\d{16,})"/g, '$1')), 'ok');
  assert.equal(code(swap('"version": 1', '"vers\\u0069on": 1')), 'ok');
  assert.equal(code(swap('"digest": "6d76', '"digest": "6D76')), 'ok');
  assert.equal(code(valid.replace('"certificate"', '"descendants": [],\n  "anchors": [],\n  "certificate"')), 'ok');
  // Wrong types, widths and forms.
  for (const [from, to] of [
    ['"version": 1', '"version": 1.0'],
    ['"version": 1', '"version": "1"'],
    ['"version": 1', '"version": 257'],
    ['"node": 0', '"node": -0'],
    ['"node": 0', '"node": 65536'],
    ['"index": 3', '"index": 4294967296'],
    ['"earliest": 1764000010003000000', '"earliest": 9223372036854775808'],
    ['"earliest": 1764000010003000000', '"earliest": 1.764000010003e18'],
    ['"version": 1', '"version": 1, "version": 1'],
    ['"version": 1', '"version": 1, "extra": 0'],
    ['"version": 1,', ''],
    ['"digest": "6d76', '"digest": "0x6d76'],
    ['"digest": "6d76', '"digest": " 6d76'],
    ['"signer": 0', '"signer": 0, "comment": "x"'],
    ['"certificate"', '"descendants": null,\n  "certificate"'],
  ]) {
    assert.equal(code(swap(from, to)), 'format_error', to);
  }
  assert.throws(() => parseProof(`${valid}x`), ProofFormatError, 'text after the JSON document');
  assert.throws(() => parseProof(`${valid}${valid}`), ProofFormatError, 'two documents');
});

test('proof bytes: size cap, UTF-8, compact magic', () => {
  assert.equal(code(valid + ' '.repeat(131072 - valid.length)), 'ok');
  assert.equal(code(valid + ' '.repeat(131073 - valid.length)), 'format_error');
  const bytes = new TextEncoder().encode(valid);
  const broken = Uint8Array.from([...bytes.subarray(0, 20), 0xff, ...bytes.subarray(21)]);
  assert.equal(verifyProof(broken, genesis).code, 'format_error');
  assert.equal(verifyProof(new TextEncoder().encode('TCPF'), genesis).code, 'format_error');
  assert.equal(verifyProof(new Uint8Array(0), genesis).code, 'format_error');
});
