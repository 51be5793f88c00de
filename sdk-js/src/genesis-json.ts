// Reading a genesis file: JSON as the Rust SDK's serde types read it, then every validity rule.
//
// Owns: `parseGenesis`, the genesis JSON schema (unknown and duplicate fields refused; `gateways`
// and `tsa_root` optional, `attestation` optional or null), equivalent to `Genesis::from_json`.
// Never: accepts a genesis that fails validation, or trusts its stated hash.

import { utf8Decode } from './bytes.js';
import { GenesisError } from './errors.js';
import type { Genesis } from './genesis.js';
import { validateGenesis } from './genesis-validate.js';
import { JsonSyntaxError, parseJson, type JsonValue } from './json.js';
import {
  defaulted,
  hex0x,
  hexBytes,
  list,
  optional,
  required,
  SchemaError,
  str,
  struct,
  u16,
  u32,
  u64,
  u8,
  type Path,
} from './schema.js';

const binding = (v: JsonValue, p: Path) =>
  struct(
    {
      address: required(hex0x(20, 'address')),
      ed25519_signature: required(hexBytes(64)),
      evm_signature: required(hex0x(65, 'signature')),
    },
    v,
    p,
  );

const node = (v: JsonValue, p: Path) => {
  const d = struct(
    {
      name: required(str),
      public_key: required(hexBytes(32)),
      address: required(str),
      attestation: defaulted(optional(binding)),
    },
    v,
    p,
  );
  const { attestation, ...rest } = d;
  return attestation === undefined ? rest : { ...rest, attestation };
};

const gateway = (v: JsonValue, p: Path) =>
  struct({ name: required(str), public_key: required(hexBytes(32)) }, v, p);

function decodeGenesis(v: JsonValue): Genesis {
  const d = struct(
    {
      version: required(u8),
      chain_id: required(str),
      genesis_second: required(u64),
      f: required(u16),
      quorum: required(u16),
      max_early_ms: required(u32),
      max_late_ms: required(u32),
      nodes: required(list(node)),
      gateways: defaulted(list(gateway)),
      tsa_root: defaulted(optional(str)),
      hash: required(hexBytes(32)),
    },
    v,
    [],
  );
  const { tsa_root, gateways, ...rest } = d;
  const g: Genesis = { ...rest, gateways: gateways ?? [] };
  if (tsa_root !== undefined) g.tsa_root = tsa_root;
  return g;
}

/**
 * Parses and validates a genesis document (text, or bytes that must be UTF-8), as
 * `Genesis::from_json`: throws `GenesisError` naming the field at fault.
 */
export function parseGenesis(input: string | Uint8Array): Genesis {
  const text = typeof input === 'string' ? input : utf8Decode(input);
  if (text === null) throw new GenesisError('genesis is not UTF-8 JSON');
  let genesis: Genesis;
  try {
    genesis = decodeGenesis(parseJson(text));
  } catch (e) {
    if (e instanceof JsonSyntaxError || e instanceof SchemaError) {
      throw new GenesisError(`genesis JSON at ${e.path}: ${e.message}`, e.path);
    }
    throw e;
  }
  validateGenesis(genesis);
  return genesis;
}
