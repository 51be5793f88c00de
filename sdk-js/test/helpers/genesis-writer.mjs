// Writing genesis documents for the tests: the JSON the Rust SDK writes, with the hash
// recomputed (or not) so that each validity rule can be reached on its own.
//
// Owns: `genesisToJson`, `withHash` and `v1Genesis` (a version 1 network, no attestation
// bindings, from any node keys). Never: validates (the verifiers under test do).

import { toHex } from '../../dist/hex.js';
import { toChecksumAddress } from '../../dist/evm.js';
import { computeGenesisHash } from '../../dist/genesis.js';

export function genesisToJson(g) {
  const out = {
    version: g.version,
    chain_id: g.chain_id,
    genesis_second: g.genesis_second.toString(),
    f: g.f,
    quorum: g.quorum,
    max_early_ms: g.max_early_ms,
    max_late_ms: g.max_late_ms,
    nodes: g.nodes.map((n) => {
      const node = { name: n.name, public_key: toHex(n.public_key), address: n.address };
      if (n.attestation) {
        node.attestation = {
          address: toChecksumAddress(n.attestation.address),
          ed25519_signature: toHex(n.attestation.ed25519_signature),
          evm_signature: `0x${toHex(n.attestation.evm_signature)}`,
        };
      }
      return node;
    }),
  };
  if (g.gateways.length > 0) out.gateways = g.gateways.map((x) => ({ name: x.name, public_key: toHex(x.public_key) }));
  if (g.tsa_root !== undefined) out.tsa_root = g.tsa_root;
  out.hash = toHex(g.hash);
  // genesis_second is a u64: write it as a JSON number, exactly.
  return `${JSON.stringify(out, null, 2).replace(/"genesis_second": "(\d+)"/, '"genesis_second": $1')}\n`;
}

/** The same genesis with its hash recomputed (the hash of an invalid document is still defined). */
export function withHash(g) {
  try {
    return { ...g, hash: computeGenesisHash(g) };
  } catch {
    return g; // a field too long to encode: validation refuses it before the hash anyway
  }
}

/** A version 1 genesis over `keys` (32-byte public keys), f = (n - 1) / 3, hash filled in. */
export function v1Genesis(keys, chainId = 'sdk-js-test-net') {
  const n = keys.length;
  const f = Math.floor((n - 1) / 3);
  return withHash({
    version: 1,
    chain_id: chainId,
    genesis_second: 1764000000n,
    f,
    quorum: n - f,
    max_early_ms: 500,
    max_late_ms: 1000,
    nodes: keys.map((k, i) => ({ name: `node-${i}`, public_key: k, address: `127.0.0.1:${7100 + i}` })),
    gateways: [],
    hash: new Uint8Array(32),
  });
}
