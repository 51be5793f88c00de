// The JSON form of a proof (`.tcproof`, specs/proof.md §2), read as the Rust SDK's serde types.
//
// Owns: the proof JSON schema: every struct refuses unknown and duplicate fields, integers are
// exact and range-checked (u8/u16/u32/u64/i64), hashes are exact-length hex, EVM values `0x`
// hex; `descendants` and `anchors` may be absent (at most 8 anchors); a vote's `earliest` and
// `latest` sit beside `signer` and `signature` (serde `flatten`).
// Never: checks anything the verifier checks (paths, signatures, counts).

import { formatPath, parseJson, type JsonValue } from './json.js';
import {
  defaulted,
  hex0x,
  hexBytes,
  i64,
  list,
  required,
  SchemaError,
  struct,
  u16,
  u32,
  u64,
  u8,
  type Path,
} from './schema.js';
import type { AnchorProof, Batch, CertVote, FinalityCertificate, MerklePath, Proof, Tick } from './types.js';

export const MAX_ANCHORS = 8;

const hash = hexBytes(32);

const merklePath = (v: JsonValue, p: Path): MerklePath =>
  struct({ index: required(u32), size: required(u32), siblings: required(list(hash)) }, v, p);

const batch = (v: JsonValue, p: Path): Batch =>
  struct(
    {
      node: required(u16),
      second: required(u64),
      root: required(hash),
      count: required(u32),
      signature: required(hexBytes(64)),
    },
    v,
    p,
  );

const tick = (v: JsonValue, p: Path): Tick =>
  struct(
    {
      height: required(u64),
      view: required(u64),
      second: required(u64),
      prev_hash: required(hash),
      batch_root: required(hash),
      batch_count: required(u32),
      proposer: required(u16),
    },
    v,
    p,
  );

/**
 * A vote: `earliest` and `latest` are a flattened `ClockReading` in Rust, whose errors (and
 * unknown fields beside it) serde reports at the vote's path, not the field's.
 */
const vote = (v: JsonValue, p: Path): CertVote => {
  try {
    return struct(
      {
        signer: required(u16),
        earliest: required(i64),
        latest: required(i64),
        signature: required(hexBytes(64)),
      },
      v,
      p,
    );
  } catch (e) {
    const here = formatPath(p);
    if (e instanceof SchemaError && e.path !== here && !/\.(signer|signature)$/.test(e.path)) {
      throw new SchemaError(e.message, p);
    }
    throw e;
  }
};

const certificate = (v: JsonValue, p: Path): FinalityCertificate =>
  struct({ view: required(u64), tick_hash: required(hash), votes: required(list(vote)) }, v, p);

const anchor = (v: JsonValue, p: Path) =>
  struct({ from: required(u64), to: required(u64), second: required(u64), root: required(hash) }, v, p);

const anchorProof = (v: JsonValue, p: Path): AnchorProof =>
  struct(
    {
      chain_id: required(u64),
      contract: required(hex0x(20, 'address')),
      anchor: required(anchor),
      tx_hash: required(hex0x(32, 'tx_hash')),
      block_number: required(u64),
      path: required(merklePath),
    },
    v,
    p,
  );

const anchors = (v: JsonValue, p: Path): AnchorProof[] => {
  const all = list(anchorProof)(v, p);
  if (all.length > MAX_ANCHORS) {
    throw new SchemaError(`at most ${MAX_ANCHORS} anchors, found ${all.length}`, p);
  }
  return all;
};

/** Decodes the JSON form; throws `JsonSyntaxError` or `SchemaError` (both carry a path). */
export function decodeJsonProof(text: string): Proof {
  const d = struct(
    {
      version: required(u8),
      genesis_hash: required(hash),
      digest: required(hash),
      salt: required(hexBytes(16)),
      batch_path: required(merklePath),
      batch: required(batch),
      tick_path: required(merklePath),
      tick: required(tick),
      descendants: defaulted(list(tick)),
      certificate: required(certificate),
      anchors: defaulted(anchors),
    },
    parseJson(text),
    [],
  );
  return { ...d, descendants: d.descendants ?? [], anchors: d.anchors ?? [] };
}
