// The Ed25519 rule against the Rust verifier itself: the strict-vs-lenient signatures of
// test/vectors/ed25519-strict.json placed in real proofs (as a node's batch signature or a
// vote), a genesis whose node key has a torsion component, and genesis keys in unusual
// encodings. Rust (ed25519-dalek verify_strict) and this package must agree on each, and on
// what `verify_strict` is known to do.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { Point } from '@noble/ed25519';
import { Network, parseGenesis, parseProof, verifiedToJson, verifyProof } from '../dist/index.js';
import { batchSigningBytes, voteSigningBytes } from '../dist/messages.js';
import { classifyJs, findCli, runCli, sameVerdict, VECTORS } from './helpers/cli.mjs';
import * as craft from './helpers/ed25519-craft.mjs';
import { genesisToJson, v1Genesis } from './helpers/genesis-writer.mjs';
import { networkKeys, publicKey, seeded, sign } from './helpers/keys.mjs';
import { proofToJson } from './helpers/proof-writer.mjs';
import { reseal } from './helpers/reseal.mjs';

const genesisPath = join(VECTORS, 'genesis-4.json');
const genesis = parseGenesis(readFileSync(genesisPath, 'utf8'));
const base = parseProof(readFileSync(join(VECTORS, 'proofs', 'valid-3of4.tcproof')));
const keys = networkKeys('vectors-4', 4);
const a0 = craft.secretScalar(keys.nodes[0]);
const nonce = (i) => craft.le(seeded(`sdk-js/ed25519-cli/nonce/${i}`)) % craft.L;
const enc = (s) => new TextEncoder().encode(s);

/** Runs both verifiers on each case; returns [js, rust] verdict pairs. */
async function both(cases) {
  const cli = findCli();
  const networks = new Map();
  const js = cases.map((c) => {
    if (!networks.has(c.genesisPath)) networks.set(c.genesisPath, new Network(parseGenesis(readFileSync(c.genesisPath, 'utf8'))));
    return classifyJs(verifyProof(c.bytes, networks.get(c.genesisPath)), verifiedToJson);
  });
  const rust = await runCli(cli, cases, 2);
  return cases.map((c, i) => [js[i], rust[i]]);
}

test('strict-vs-lenient signatures in real proofs: Rust and JS agree, as verify_strict says', async () => {
  const msg = batchSigningBytes(genesis.hash, base.batch);
  const batchCases = [
    ['honest (control)', sign(msg, keys.nodes[0]), 'ok'],
    ['mixed-order R', craft.mixedOrderR(a0, msg, nonce(1)), 'bad_batch_signature'],
    ['small-order R', craft.smallOrderR(a0, msg), 'bad_batch_signature'],
    ['non-canonical R', craft.nonCanonicalIdentityR(a0, msg), 'bad_batch_signature'],
    ['unreduced S', craft.unreducedS(a0, msg, nonce(2)), 'bad_batch_signature'],
    ['hand-made honest', craft.honest(a0, msg, nonce(3)), 'ok'],
  ];
  const cases = batchCases.map(([what, sig, expect]) => {
    const p = structuredClone(base);
    p.batch.signature = sig;
    return { what: `batch: ${what}`, expect, bytes: enc(proofToJson(p)), genesisPath };
  });
  // The same for a finalize vote (node 0 signs first in valid-3of4).
  const vote = base.certificate.votes[0];
  const vmsg = voteSigningBytes('finalize', genesis.hash, base.certificate.view, base.certificate.tick_hash, vote.earliest, vote.latest);
  for (const [what, sig, expect] of [
    ['mixed-order R', craft.mixedOrderR(a0, vmsg, nonce(4)), 'bad_signature'],
    ['small-order R', craft.smallOrderR(a0, vmsg), 'bad_signature'],
    ['hand-made honest', craft.honest(a0, vmsg, nonce(5)), 'ok'],
  ]) {
    const p = structuredClone(base);
    p.certificate.votes[0].signature = sig;
    cases.push({ what: `vote: ${what}`, expect, bytes: enc(proofToJson(p)), genesisPath });
  }
  const verdicts = await both(cases);
  cases.forEach((c, i) => {
    const [js, rust] = verdicts[i];
    const name = (v) => (v.class === 'code' ? v.code : v.class);
    assert.ok(sameVerdict(js, rust), `${c.what}: JS ${name(js)}, Rust ${name(rust)}`);
    assert.equal(name(rust), c.expect, `${c.what}: Rust`);
  });
});

test('a node key with a torsion component: both verify a signature exactly when 8 divides k', async () => {
  // Version 1 genesis (no attestation bindings): node 0 is [a0]B + T8, nodes 1-3 as in genesis-4.
  const pubs = genesis.nodes.map((n) => n.public_key);
  pubs[0] = craft.mixedOrderKey(a0);
  const g = v1Genesis(pubs);
  const dir = mkdtempSync(join(tmpdir(), 'tickchain-ed25519-'));
  try {
    const path = join(dir, 'genesis.json');
    writeFileSync(path, genesisToJson(g));
    const parsed = parseGenesis(readFileSync(path, 'utf8'));
    const cases = [];
    const seen = { ok: 0, bad: 0 };
    for (let i = 0; i < 64 && (seen.ok < 2 || seen.bad < 3); i++) {
      const p = structuredClone(base);
      p.genesis_hash = parsed.hash;
      p.digest = seeded(`sdk-js/ed25519-cli/digest/${i}`);
      // Votes by nodes 1-3 (ordinary keys); the batch by node 0 (the mixed-order key).
      p.certificate.votes = [1, 2, 3].map((s, j) => ({ ...structuredClone(base.certificate.votes[j]), signer: s }));
      reseal(p, parsed, { nodes: [null, ...keys.nodes.slice(1)], gateways: [] }, { chance: () => false });
      const { sig, kMod8 } = craft.signMixedKey(a0, batchSigningBytes(parsed.hash, p.batch), nonce(100 + i));
      p.batch.signature = sig;
      // Votes were signed over the tick, which commits to the batch leaf, not its signature.
      const expect = kMod8 === 0 ? 'ok' : 'bad_batch_signature';
      seen[kMod8 === 0 ? 'ok' : 'bad'] += 1;
      cases.push({ what: `digest ${i}, k = ${kMod8} mod 8`, expect, bytes: enc(proofToJson(p)), genesisPath: path });
    }
    assert.ok(seen.ok >= 2 && seen.bad >= 3, `cases of both kinds: ${JSON.stringify(seen)}`);
    const verdicts = await both(cases);
    cases.forEach((c, i) => {
      const [js, rust] = verdicts[i];
      const name = (v) => (v.class === 'code' ? v.code : v.class);
      assert.ok(sameVerdict(js, rust), `${c.what}: JS ${name(js)}, Rust ${name(rust)}`);
      assert.equal(name(rust), c.expect, `${c.what}: Rust`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('genesis keys in unusual encodings: Rust and JS accept and refuse the same ones', async () => {
  const P = (1n << 255n) - 19n;
  const variants = [
    ['ordinary', publicKey(seeded('sdk-js/genesis-key/x'))],
    ['order-8 point', craft.T8.toBytes()],
    ['identity', craft.toLe(1n)],
    ['identity, y = p + 1', craft.toLe(P + 1n)],
    ['order 2 (y = -1)', craft.toLe(P - 1n)],
    ['order 4 (y = 0), sign bit set', Uint8Array.from([...craft.toLe(0n).subarray(0, 31), 0x80])],
    ['no curve point (y = 2)', craft.toLe(2n)],
    ['mixed order, y = p + 3', craft.toLe(P + 3n)],
    ['mixed order [a]B + T8', craft.mixedOrderKey(a0)],
    ['identity with the sign bit set', Uint8Array.from([1, ...new Uint8Array(30), 0x80])],
    ['base point', Point.BASE.toBytes()],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tickchain-genesis-keys-'));
  try {
    const proofPath = join(VECTORS, 'proofs', 'valid-3of4.tcproof');
    const proofBytes = readFileSync(proofPath);
    const cases = variants.map(([what, key], i) => {
      const pubs = genesis.nodes.map((n) => n.public_key);
      pubs[3] = key;
      const path = join(dir, `genesis-${i}.json`);
      writeFileSync(path, genesisToJson(v1Genesis(pubs)));
      return { what, bytes: proofBytes, genesisPath: path };
    });
    const cli = findCli();
    const rust = await runCli(cli, cases, 2);
    cases.forEach((c, i) => {
      let jsAccepts = true;
      try {
        parseGenesis(readFileSync(c.genesisPath, 'utf8'));
      } catch {
        jsAccepts = false;
      }
      // With a genesis it accepts, the CLI gets as far as the proof (wrong_genesis here).
      const rustAccepts = rust[i].class !== 'decode';
      assert.equal(jsAccepts, rustAccepts, `${c.what}: JS accepts ${jsAccepts}, Rust ${rustAccepts} (${rust[i].text ?? ''})`);
    });
    const accepted = cases.filter((_, i) => rust[i].class !== 'decode').map((c) => c.what);
    assert.deepEqual(accepted, ['ordinary', 'mixed order, y = p + 3', 'mixed order [a]B + T8', 'base point']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
