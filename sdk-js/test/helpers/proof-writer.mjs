// Writing proofs back out, for the mutation tests: the JSON form as the Rust SDK prints it and
// the compact form with its compactability rules (specs/proof.md §2–3).
//
// Owns: `proofToJson`, `proofToCompact` (null when the proof cannot be written compactly) and
// `renderTree` (a parsed JSON tree back to text, numbers as written). Never: validates beyond
// what `Proof::to_compact` refuses.

import { toHex } from '../../dist/hex.js';
import { toChecksumAddress } from '../../dist/evm.js';
import { Writer } from '../../dist/encoding.js';
import { shapeError } from '../../dist/merkle.js';
import { anchorPosition } from '../../dist/proof-compact.js';

function render(v, indent) {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${render(v[k], inner)}`).join(',\n')}\n${indent}}`;
}

const path = (p) => ({ index: p.index, size: p.size, siblings: p.siblings.map(toHex) });
const tick = (t) => ({
  height: t.height,
  view: t.view,
  second: t.second,
  prev_hash: toHex(t.prev_hash),
  batch_root: toHex(t.batch_root),
  batch_count: t.batch_count,
  proposer: t.proposer,
});

export function proofToJson(p) {
  const out = {
    version: p.version,
    genesis_hash: toHex(p.genesis_hash),
    digest: toHex(p.digest),
    salt: toHex(p.salt),
    batch_path: path(p.batch_path),
    batch: {
      node: p.batch.node,
      second: p.batch.second,
      root: toHex(p.batch.root),
      count: p.batch.count,
      signature: toHex(p.batch.signature),
    },
    tick_path: path(p.tick_path),
    tick: tick(p.tick),
  };
  if (p.descendants.length > 0) out.descendants = p.descendants.map(tick);
  out.certificate = {
    view: p.certificate.view,
    tick_hash: toHex(p.certificate.tick_hash),
    votes: p.certificate.votes.map((v) => ({
      signer: v.signer,
      earliest: v.earliest,
      latest: v.latest,
      signature: toHex(v.signature),
    })),
  };
  if (p.anchors.length > 0) {
    out.anchors = p.anchors.map((a) => ({
      chain_id: a.chain_id,
      contract: toChecksumAddress(a.contract),
      anchor: { from: a.anchor.from, to: a.anchor.to, second: a.anchor.second, root: toHex(a.anchor.root) },
      tx_hash: `0x${toHex(a.tx_hash)}`,
      block_number: a.block_number,
      path: path(a.path),
    }));
  }
  return `${render(out, '')}\n`;
}

/** The compact form, or null when `Proof::to_compact` would refuse the proof. */
export function proofToCompact(p) {
  if (shapeError(p.batch_path) !== null || shapeError(p.tick_path) !== null) return null;
  if (p.descendants.length > 64 || p.anchors.length > 8) return null;
  for (const a of p.anchors) {
    const pos = anchorPosition(a.anchor.from, a.anchor.to, p.tick.height);
    if (pos === null || pos[0] !== a.path.index || pos[1] !== a.path.size) return null;
    if (shapeError(a.path) !== null) return null;
  }
  const votes = p.certificate.votes;
  for (let i = 1; i < votes.length; i++) if (votes[i - 1].signer >= votes[i].signer) return null;
  const n = votes.length === 0 ? 0 : votes[votes.length - 1].signer + 1;
  const bitmap = new Uint8Array(Math.ceil(n / 8));
  for (const v of votes) bitmap[v.signer >> 3] |= 1 << (v.signer & 7);
  if (bitmap.length > 128) return null;
  const w = new Writer().bytes(new TextEncoder().encode('TCPF')).u8(p.version);
  w.bytes(p.genesis_hash).bytes(p.digest).bytes(p.salt);
  w.u32(p.batch_path.index).u32(p.batch_path.size);
  p.batch_path.siblings.forEach((s) => w.bytes(s));
  w.u16(p.batch.node).u64(p.batch.second).bytes(p.batch.signature);
  w.u32(p.tick_path.index).u32(p.tick_path.size);
  p.tick_path.siblings.forEach((s) => w.bytes(s));
  const t = p.tick;
  w.u64(t.height).u64(t.view).u64(t.second).bytes(t.prev_hash).u16(t.proposer);
  w.u8(p.descendants.length);
  for (const d of p.descendants) w.u64(d.view).u64(d.second).bytes(d.batch_root).u32(d.batch_count).u16(d.proposer);
  w.u16(bitmap.length).bytes(bitmap);
  for (const v of votes) w.i64(v.earliest).i64(v.latest).bytes(v.signature);
  if (p.anchors.length > 0) {
    w.u8(p.anchors.length);
    for (const a of p.anchors) {
      w.u64(a.chain_id).bytes(a.contract).u64(a.anchor.from).u64(a.anchor.to).u64(a.anchor.second);
      w.bytes(a.anchor.root).bytes(a.tx_hash).u64(a.block_number);
      a.path.siblings.forEach((s) => w.bytes(s));
    }
  }
  return w.finish();
}

/** A parsed JSON tree (dist/json.js) back to pretty text; numbers keep their written form. */
export function renderTree(v, indent = '') {
  const inner = `${indent}  `;
  switch (v.kind) {
    case 'null':
      return 'null';
    case 'bool':
      return String(v.value);
    case 'number':
      return v.text;
    case 'string':
      return JSON.stringify(v.value);
    case 'array':
      if (v.items.length === 0) return '[]';
      return `[\n${v.items.map((x) => inner + renderTree(x, inner)).join(',\n')}\n${indent}]`;
    case 'object':
      if (v.entries.length === 0) return '{}';
      return `{\n${v.entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${renderTree(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  throw new Error(`unknown node ${v.kind}`);
}

/** The same tree with no whitespace at all (serde_json reads any layout). */
export function renderTreeCompact(v) {
  switch (v.kind) {
    case 'array':
      return `[${v.items.map(renderTreeCompact).join(',')}]`;
    case 'object':
      return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${renderTreeCompact(x)}`).join(',')}}`;
    default:
      return renderTree(v);
  }
}
