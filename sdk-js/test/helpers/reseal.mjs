// Semantic mutations that reach the deep checks: change what a proof claims, then re-derive
// and re-sign everything else with the vector networks' public test keys, so that the proof
// fails (or passes) only because of the claim itself.
//
// Owns: the claim edits (seconds at and across their bounds, clock readings across the
// window's edges, signers removed, repeated, reordered or out of range, batch signers including
// gateways, views, heights up to wrapping, descendant chains, anchor ranges, paths, versions)
// and `reseal`, which recomputes roots, links and hashes and re-signs the batch and the votes,
// skipping a step now and then so single links break. Never: uses a key that is not public.

import { batchLeaf, batchSigningBytes, tickHash, voteSigningBytes } from '../../dist/messages.js';
import { digestLeaf, foldPath, leafHash, shapeError } from '../../dist/merkle.js';
import { sign } from './keys.mjs';

const MAX_SECOND = 9_223_372_036n;
const U64 = (1n << 64n) - 1n;

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const clone = (p) => structuredClone(p);
const clampI64 = (v) => (v < I64_MIN ? I64_MIN : v > I64_MAX ? I64_MAX : v);

function certified(p) {
  return p.descendants[p.descendants.length - 1] ?? p.tick;
}

/** Recomputes derived fields and signatures; `rng` decides which steps to skip (rarely). */
export function reseal(p, genesis, keys, rng, keep = new Set()) {
  const g = genesis.hash;
  const n = genesis.nodes.length;
  const skip = (step) => keep.has(step) || rng.chance(0.04);
  if (!skip()) p.batch.count = p.batch_path.size;
  if (!skip() && shapeError(p.batch_path) === null) p.batch.root = foldPath(p.batch_path, digestLeaf(p.salt, p.digest));
  const batchKey = p.batch.node < n ? keys.nodes[p.batch.node] : keys.gateways[p.batch.node - n];
  if (!skip() && batchKey) p.batch.signature = sign(batchSigningBytes(g, p.batch), batchKey);
  if (!skip()) p.tick.batch_count = p.tick_path.size;
  if (!skip() && shapeError(p.tick_path) === null) p.tick.batch_root = foldPath(p.tick_path, batchLeaf(g, p.batch));
  let prev = p.tick;
  for (const d of p.descendants) {
    if (!skip()) d.prev_hash = tickHash(g, prev);
    prev = d;
  }
  const top = certified(p);
  if (!skip()) p.certificate.tick_hash = tickHash(g, top);
  if (!skip('certificate.view')) p.certificate.view = top.view;
  for (const v of p.certificate.votes) {
    const key = keys.nodes[v.signer];
    if (key && !skip()) {
      v.signature = sign(voteSigningBytes('finalize', g, p.certificate.view, p.certificate.tick_hash, v.earliest, v.latest), key);
    }
  }
  const own = leafHash(tickHash(g, p.tick));
  for (const a of p.anchors) {
    if (!skip() && shapeError(a.path) === null) a.anchor.root = foldPath(a.path, own);
  }
  return p;
}

function anchorRange(p, rng) {
  const h = p.tick.height;
  for (const a of p.anchors) {
    switch (rng.int(4)) {
      case 0:
        a.anchor.from = (h + 1n) & U64;
        break;
      case 1:
        a.anchor.to = (a.anchor.to + 1n) & U64;
        break;
      case 2: {
        // Keep the claim consistent: the tick alone in a range of one.
        a.anchor.from = h;
        a.anchor.to = h;
        a.path = { index: 0, size: 1, siblings: [] };
        break;
      }
      default:
        a.path.index += 1;
    }
  }
}

/** Pushes `k` readings across the window's lower or upper bound (or exactly onto it). */
function shiftReadings(p, genesis, rng) {
  const start = certified(p).second * 1_000_000_000n;
  const early = BigInt(genesis.max_early_ms) * 1_000_000n;
  const late = BigInt(genesis.max_late_ms) * 1_000_000n;
  const votes = p.certificate.votes;
  const k = 1 + rng.int(Math.min(votes.length, genesis.f + 2));
  const edge = BigInt(rng.pick([-1, 0, 1]));
  const lower = rng.chance(0.5);
  for (let i = 0; i < k; i++) {
    const v = votes[rng.int(votes.length)];
    if (lower) v.earliest = clampI64(start - early + edge);
    else v.latest = clampI64(start + late + edge);
    if (rng.chance(0.1)) v.earliest = rng.pick([-(1n << 63n), (1n << 63n) - 1n, 0n]);
    if (rng.chance(0.1)) v.latest = rng.pick([-(1n << 63n), (1n << 63n) - 1n, 0n]);
  }
}

function addDescendants(p, rng) {
  const count = 1 + rng.int(rng.chance(0.9) ? 3 : 70);
  let prev = certified(p);
  for (let i = 0; i < count; i++) {
    const next = {
      height: (prev.height + 1n) & U64,
      view: (prev.view + 1n + BigInt(rng.int(3))) & U64,
      second: (prev.second + 1n + BigInt(rng.int(2))) & U64,
      prev_hash: new Uint8Array(32),
      batch_root: rng.bytes(32),
      batch_count: rng.int(5),
      proposer: rng.int(4),
    };
    p.descendants.push(next);
    prev = next;
  }
  if (rng.chance(0.3)) {
    const d = rng.pick(p.descendants);
    switch (rng.int(4)) {
      case 0:
        d.height = (d.height + 1n) & U64;
        break;
      case 1:
        d.second = p.tick.second;
        break;
      case 2:
        d.second = MAX_SECOND + 1n;
        break;
      default:
        d.second = MAX_SECOND;
    }
  }
}

/** The claim edits; each takes (proof, genesis, rng) and changes the proof in place. */
const EDITS = [
  ['tick.second', (p, g, rng) => {
    p.tick.second = rng.pick([g.genesis_second, g.genesis_second + 1n, MAX_SECOND, MAX_SECOND + 1n, p.tick.second + (1n << 55n), 0n, U64, p.tick.second + 1n]) & U64;
  }],
  ['batch.second', (p, g, rng) => {
    p.batch.second = rng.pick([p.tick.second, p.tick.second + 1n, 0n, U64, p.tick.second - 1n]) & U64;
  }],
  ['batch.node', (p, g, rng) => {
    p.batch.node = rng.int(g.nodes.length + g.gateways.length + 2);
  }],
  ['readings', (p, g, rng) => shiftReadings(p, g, rng)],
  ['drop vote', (p, g, rng) => {
    p.certificate.votes.splice(rng.int(p.certificate.votes.length), 1);
  }],
  ['repeat vote', (p, g, rng) => {
    const v = rng.pick(p.certificate.votes);
    p.certificate.votes.push(structuredClone(v));
  }],
  ['reorder votes', (p) => p.certificate.votes.reverse()],
  ['signer', (p, g, rng) => {
    const v = rng.pick(p.certificate.votes);
    v.signer = rng.pick([g.nodes.length, g.nodes.length + 1, 1023, 65535, rng.int(g.nodes.length)]);
  }],
  ['add signer', (p, g, rng) => {
    const used = new Set(p.certificate.votes.map((v) => v.signer));
    const free = g.nodes.map((_, i) => i).filter((i) => !used.has(i));
    if (free.length === 0) return;
    const base = p.certificate.votes[0];
    p.certificate.votes.push({ ...structuredClone(base), signer: rng.pick(free) });
    p.certificate.votes.sort((a, b) => a.signer - b.signer);
  }],
  ['views', (p, g, rng) => {
    if (rng.chance(0.5)) {
      p.tick.view = (p.tick.view + 1n) & U64;
      return [];
    }
    p.certificate.view = (p.certificate.view + 1n) & U64;
    return ['certificate.view'];
  }],
  ['height', (p, g, rng) => {
    p.tick.height = rng.pick([0n, 1n, U64, U64 - 1n, (p.tick.height + 1n) & U64]);
  }],
  ['descendants', (p, g, rng) => addDescendants(p, rng)],
  ['anchors', (p, g, rng) => anchorRange(p, rng)],
  ['digest', (p, g, rng) => {
    p.digest = rng.bytes(32);
    if (rng.chance(0.5)) p.salt = rng.bytes(16);
  }],
  ['batch_path', (p, g, rng) => {
    switch (rng.int(3)) {
      case 0:
        p.batch_path.size += 1;
        break;
      case 1:
        p.batch_path.index = Math.max(0, p.batch_path.index - 1);
        break;
      default:
        p.batch_path = { index: 0, size: 1, siblings: [] };
    }
  }],
  ['tick_path', (p, g, rng) => {
    if (rng.chance(0.5)) p.tick_path.size += 1;
    else p.tick_path = { index: 0, size: 1, siblings: [] };
  }],
  ['version', (p, g, rng) => {
    p.version = rng.pick([0, 2, 255]);
  }],
  ['nothing', () => {}],
];

/** A proof with one or two claim edits, resealed. */
export function sealedMutation(proof, genesis, keys, rng) {
  const p = clone(proof);
  const names = [];
  const keep = new Set();
  const edits = rng.chance(0.25) ? 2 : 1;
  for (let i = 0; i < edits; i++) {
    const [name, edit] = rng.pick(EDITS);
    names.push(name);
    for (const step of edit(p, genesis, rng) ?? []) keep.add(step);
  }
  return { proof: reseal(p, genesis, keys, rng, keep), what: names.join(' + ') };
}
