// specs/vectors/encoding.json and anchor.json: the canonical bytes and hashes this package
// computes are byte for byte the Rust SDK's (ticks, batches, votes, digest leaves, Merkle
// roots, genesis v2 and v3, attestation bindings, anchored roots, Keccak and secp256k1
// recovery).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { parseGenesis } from '../dist/index.js';
import { bindingMessage, bindingProblem } from '../dist/attest.js';
import { genesisBytes } from '../dist/genesis.js';
import { decodeHex, toHex } from '../dist/hex.js';
import { digestLeaf, hash, leafHash, nodeHash } from '../dist/merkle.js';
import { batchLeaf, batchSigningBytes, tickBytes, tickHash, voteSigningBytes } from '../dist/messages.js';
import { Writer, TAG } from '../dist/encoding.js';
import { keccak256, recoverSigner, toChecksumAddress } from '../dist/evm.js';
import { VECTORS } from './helpers/cli.mjs';
import { readLossless } from './helpers/lossless.mjs';
import { renderTree } from './helpers/proof-writer.mjs';
import { parseJson } from '../dist/json.js';

const enc = readLossless(join(VECTORS, 'encoding.json'));
const anchors = JSON.parse(readFileSync(join(VECTORS, 'anchor.json'), 'utf8'));
const genesis4 = parseGenesis(readFileSync(join(VECTORS, 'genesis-4.json'), 'utf8'));
const g = genesis4.hash;
const hex = (s) => {
  const t = s.startsWith('0x') ? s.slice(2) : s;
  return decodeHex(t, t.length / 2);
};

/** RFC 9162 MTH over leaf hashes. */
function mth(leaves) {
  if (leaves.length === 0) return hash(new Uint8Array(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const tickOf = (v) => ({
  height: BigInt(v.height),
  view: BigInt(v.view),
  second: BigInt(v.second),
  prev_hash: hex(v.prev_hash),
  batch_root: hex(v.batch_root),
  batch_count: Number(v.batch_count),
  proposer: Number(v.proposer),
});

test('tick canonical bytes and hash', () => {
  const t = tickOf(enc.tick.value);
  assert.equal(toHex(tickBytes(g, t)), enc.tick.canonical_bytes);
  assert.equal(toHex(tickHash(g, t)), enc.tick.hash);
});

test('batch signing bytes and leaf hash', () => {
  const v = enc.batch.value;
  const b = { node: Number(v.node), second: BigInt(v.second), root: hex(v.root), count: Number(v.count) };
  assert.equal(toHex(batchSigningBytes(g, b)), enc.batch.signing_bytes);
  assert.equal(toHex(batchLeaf(g, b)), enc.batch.leaf_hash);
});

test('finalize, notarize and nullify vote bytes', () => {
  const f = enc.finalize_vote;
  const args = [g, BigInt(f.view), hex(f.tick_hash), BigInt(f.reading.earliest), BigInt(f.reading.latest)];
  assert.equal(toHex(voteSigningBytes('finalize', ...args)), f.signing_bytes);
  assert.equal(toHex(voteSigningBytes('notarize', ...args)), enc.notarize_vote.signing_bytes);
  const nullify = Writer.withTag(TAG.NULLIFY).bytes(g).u64(BigInt(enc.nullify_vote.view)).finish();
  assert.equal(toHex(nullify), enc.nullify_vote.signing_bytes);
});

test('digest leaf', () => {
  const d = enc.digest_leaf;
  assert.equal(toHex(digestLeaf(hex(d.salt), hex(d.digest))), d.leaf_hash);
});

test('Merkle roots for 0.. leaves', () => {
  for (const r of enc.merkle_roots) {
    const leaves = Array.from({ length: Number(r.leaves) }, (_, i) => leafHash(new Writer().u32(i).finish()));
    assert.equal(toHex(mth(leaves)), r.root, `${r.leaves} leaves`);
  }
});

test('genesis v2 and v3 canonical bytes and hashes', () => {
  assert.equal(toHex(genesisBytes(genesis4)), enc.genesis.canonical_bytes);
  assert.equal(toHex(genesis4.hash), enc.genesis.hash);
  // genesis_v3 carries its JSON beside the bytes; it must load and encode the same.
  // genesis_v3 carries its JSON document beside the bytes (it has a TSA root); it must load.
  const v3 = enc.genesis_v3;
  const tree = parseJson(readFileSync(join(VECTORS, 'encoding.json'), 'utf8'));
  const v3Tree = tree.entries.find(([key]) => key === 'genesis_v3')[1];
  const parsed = parseGenesis(renderTree(v3Tree.entries.find(([key]) => key === 'json')[1]));
  assert.equal(toHex(genesisBytes(parsed)), v3.canonical_bytes);
  assert.equal(toHex(parsed.hash), v3.hash);
  assert.ok(parsed.tsa_root !== undefined && parsed.gateways.length === 2);
});

test('attestation binding: message, keccak, canonical bytes, both signatures', () => {
  const a = enc.attestation_binding;
  const pk = hex(a.public_key);
  const binding = { address: hex(a.address), ed25519_signature: hex(a.ed25519_signature), evm_signature: hex(a.evm_signature) };
  assert.equal(toHex(bindingMessage(pk, binding.address)), a.message);
  assert.equal(toHex(keccak256(hex(a.message))), a.message_keccak256);
  assert.equal(toHex(new Uint8Array([...binding.address, ...binding.ed25519_signature, ...binding.evm_signature])), a.canonical_bytes);
  assert.equal(bindingProblem(binding, pk), null);
  assert.equal(toChecksumAddress(binding.address), a.address);
});

test('anchor.json: anchored roots (leaf content = tick hash)', () => {
  for (const r of anchors.roots) {
    assert.equal(toHex(mth(r['tick-hashes'].map((h) => leafHash(hex(h))))), r.root);
  }
});

test('anchor.json: EIP-712 type hashes, separators, digests and signer recovery', () => {
  const k = (s) => keccak256(new TextEncoder().encode(s));
  const word = (v) => {
    const w = new Uint8Array(32);
    let x = BigInt(v);
    for (let i = 31; i >= 0; i--, x >>= 8n) w[i] = Number(x & 0xffn);
    return w;
  };
  const addrWord = (a) => new Uint8Array([...new Uint8Array(12), ...hex(a)]);
  const cat = (...p) => new Uint8Array(p.flatMap((x) => [...x]));
  const types = {
    EIP712Domain: 'EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)',
    Anchor: 'Anchor(uint64 fromHeight,uint64 toHeight,uint64 second,bytes32 root)',
    Rotate: 'Rotate(uint64 newEpoch,address[] signers,uint8 threshold)',
  };
  for (const [name, text] of Object.entries(types)) assert.equal(`0x${toHex(k(text))}`, anchors['type-hashes'][name]);
  const separators = {};
  for (const d of anchors.domains) {
    const sep = keccak256(cat(k(types.EIP712Domain), k('TickOracle'), k('1'), word(d.domain['chain-id']), addrWord(d.domain.contract)));
    assert.equal(`0x${toHex(sep)}`, d.separator);
    separators[d.name] = sep;
  }
  const check = (item, structHash) => {
    assert.equal(`0x${toHex(structHash)}`, item['struct-hash']);
    const digest = keccak256(cat(Uint8Array.of(0x19, 0x01), separators[item.domain], structHash));
    assert.equal(`0x${toHex(digest)}`, item.digest);
    for (const s of item.signatures) {
      const r = recoverSigner(digest, hex(s.signature));
      assert.equal(r.error, undefined);
      assert.equal(toChecksumAddress(r.address), s.signer);
    }
  };
  for (const a of anchors.anchors) {
    const m = a.message;
    check(a, keccak256(cat(k(types.Anchor), word(m.from), word(m.to), word(m.second), hex(m.root))));
  }
  for (const r of anchors.rotations) {
    const m = r.message;
    const signers = keccak256(cat(...m.signers.map(addrWord)));
    check(r, keccak256(cat(k(types.Rotate), word(m['new-epoch']), signers, word(m.threshold))));
  }
});

test('secp256k1 recovery refuses what the Rust SDK refuses', () => {
  const a = enc.attestation_binding;
  const digest = hex(a.message_keccak256);
  const sig = hex(a.evm_signature);
  const withV = (v) => Uint8Array.from([...sig.subarray(0, 64), v]);
  assert.match(recoverSigner(digest, withV(29)).error, /expected v 27 or 28, found 29/);
  assert.match(recoverSigner(digest, withV(1)).error, /expected v 27 or 28/);
  // The malleated twin (r, n - s, v ^ 1) recovers the same key but has a high s.
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  let s = 0n;
  for (const b of sig.subarray(32, 64)) s = (s << 8n) | BigInt(b);
  const high = hex((n - s).toString(16).padStart(64, '0'));
  const twin = Uint8Array.from([...sig.subarray(0, 32), ...high, sig[64] === 27 ? 28 : 27]);
  assert.match(recoverSigner(digest, twin).error, /high s/);
  const zeroR = Uint8Array.from([...new Uint8Array(32), ...sig.subarray(32)]);
  assert.match(recoverSigner(digest, zeroR).error, /r or s is zero/);
});
