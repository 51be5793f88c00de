// The verified result as JSON text, byte for byte what `tickchain verify --json` prints.
//
// Owns: serde_json's pretty format (two-space indent, `"key": value`, `[]` for an empty list)
// with bigint written as exact integers, and the Rust field order of `VerifiedTimestamp`.
// Never: rounds an integer, or prints a field the Rust result omits (`batch_gateway` and
// `anchors` only when present).

import type { VerifiedTimestamp } from './verify.js';

type Json = string | number | bigint | Json[] | { [key: string]: Json };

function render(v: Json, indent: string): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'bigint') return v.toString();
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + render(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${render(v[k]!, inner)}`).join(',\n')}\n${indent}}`;
}

/** `serde_json::to_string_pretty` of the Rust `VerifiedTimestamp` this result mirrors. */
export function verifiedToJson(r: VerifiedTimestamp): string {
  const out: { [key: string]: Json } = {
    digest: r.digest,
    second: r.second,
    earliest: r.earliest,
    latest: r.latest,
    height: r.height,
    certified_height: r.certified_height,
    tick_hash: r.tick_hash,
    batch_node: r.batch_node,
  };
  if (r.batch_gateway !== undefined) out['batch_gateway'] = r.batch_gateway;
  out['signers'] = r.signers;
  if (r.anchors !== undefined && r.anchors.length > 0) {
    out['anchors'] = r.anchors.map((a) => ({
      chain_id: a.chain_id,
      contract: a.contract,
      anchor: { from: a.anchor.from, to: a.anchor.to, second: a.anchor.second, root: a.anchor.root },
      tx_hash: a.tx_hash,
      block_number: a.block_number,
    }));
  }
  return render(out, '');
}
