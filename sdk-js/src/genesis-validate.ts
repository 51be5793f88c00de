// The validity rules of a genesis document (specs/encoding.md §3.1), in the Rust SDK's order.
//
// Owns: version range, text lengths, ring size and fault bound, quorum, key strength and
// distinctness, names, attestation bindings (required from version 2, refused in 1), the
// version 3 extensions (gateways, TSA root), and the hash check, each failure naming its field
// as `Genesis::validate` does. Never: parses JSON or fixes a document.

import { bindingProblem } from './attest.js';
import { bytesEqual, utf8Encode } from './bytes.js';
import { keyProblem } from './ed25519.js';
import { GenesisError } from './errors.js';
import {
  computeGenesisHash,
  GENESIS_VERSION,
  GENESIS_VERSION_GATEWAYS,
  GENESIS_VERSION_NO_ATTESTATION,
  type Genesis,
} from './genesis.js';
import { decodeLowerHex, toHex } from './hex.js';

export const MAX_NODES = 1024;
export const MAX_TEXT_LEN = 255;
export const MAX_GATEWAYS = 256;
export const MAX_TSA_ROOT_LEN = 4096;

function invalid(field: string, reason: string): GenesisError {
  return new GenesisError(`genesis field ${field}: ${reason}`, field);
}

function checkText(field: string, value: string): void {
  const len = utf8Encode(value).length;
  if (len === 0 || len > MAX_TEXT_LEN) {
    throw invalid(field, `expected 1 to ${MAX_TEXT_LEN} bytes, got ${len}`);
  }
}

function checkKey(field: string, key: Uint8Array): void {
  const problem = keyProblem(key);
  if (problem !== null) throw invalid(field, problem);
}

/** Throws `GenesisError` at the first rule `g` breaks, in `Genesis::validate`'s order. */
export function validateGenesis(g: Genesis): void {
  if (g.version < GENESIS_VERSION_NO_ATTESTATION || g.version > GENESIS_VERSION_GATEWAYS) {
    throw invalid(
      'version',
      `expected ${GENESIS_VERSION_NO_ATTESTATION} to ${GENESIS_VERSION_GATEWAYS}, got ${g.version}`,
    );
  }
  checkText('chain_id', g.chain_id);
  const n = g.nodes.length;
  if (n === 0 || n > MAX_NODES) throw invalid('nodes', `expected 1 to ${MAX_NODES} nodes, got ${n}`);
  const f = g.f;
  if (n < 3 * f + 1) {
    throw invalid('f', `${n} nodes tolerate at most f = ${Math.floor((n - 1) / 3)}, got f = ${f}`);
  }
  if (g.quorum !== n - f) throw invalid('quorum', `expected n - f = ${n - f}, got ${g.quorum}`);
  g.nodes.forEach((node, i) => {
    checkText(`nodes[${i}].name`, node.name);
    checkText(`nodes[${i}].address`, node.address);
    checkKey(`nodes[${i}].public_key`, node.public_key);
    for (let j = 0; j < i; j++) {
      const other = g.nodes[j]!;
      if (bytesEqual(other.public_key, node.public_key)) {
        throw invalid(`nodes[${i}].public_key`, `same key as nodes[${j}]`);
      }
      if (
        other.attestation !== undefined &&
        node.attestation !== undefined &&
        bytesEqual(other.attestation.address, node.attestation.address)
      ) {
        throw invalid(`nodes[${i}].attestation.address`, `same attestation address as nodes[${j}]`);
      }
      if (other.name === node.name) {
        throw invalid(`nodes[${i}].name`, `same name as nodes[${j}]: ${JSON.stringify(node.name)}`);
      }
    }
    checkAttestation(g, i);
  });
  checkExtensions(g);
  const computed = computeGenesisHash(g);
  if (!bytesEqual(computed, g.hash)) {
    throw new GenesisError(
      `genesis hash mismatch: file says ${toHex(g.hash)}, contents hash to ${toHex(computed)}`,
      'hash',
    );
  }
}

function checkAttestation(g: Genesis, i: number): void {
  const node = g.nodes[i]!;
  const field = `nodes[${i}].attestation`;
  if (g.version === GENESIS_VERSION_NO_ATTESTATION) {
    if (node.attestation !== undefined) {
      throw invalid(field, `expected none in a version ${GENESIS_VERSION_NO_ATTESTATION} genesis`);
    }
    return;
  }
  if (node.attestation === undefined) {
    throw invalid(field, `expected an attestation binding in a version ${GENESIS_VERSION} genesis, found none`);
  }
  const problem = bindingProblem(node.attestation, node.public_key);
  if (problem !== null) throw invalid(field, problem);
}

function checkExtensions(g: Genesis): void {
  if (g.version < GENESIS_VERSION_GATEWAYS) {
    if (g.gateways.length > 0) {
      throw invalid('gateways', `expected none before genesis version ${GENESIS_VERSION_GATEWAYS}`);
    }
    if (g.tsa_root !== undefined) {
      throw invalid('tsa_root', `expected none before genesis version ${GENESIS_VERSION_GATEWAYS}`);
    }
    return;
  }
  if (g.gateways.length === 0 && g.tsa_root === undefined) {
    throw invalid(
      'version',
      `a version ${GENESIS_VERSION_GATEWAYS} genesis has gateways or a TSA root; without either write version ${GENESIS_VERSION}`,
    );
  }
  if (g.gateways.length > MAX_GATEWAYS) {
    throw invalid('gateways', `expected at most ${MAX_GATEWAYS}, got ${g.gateways.length}`);
  }
  g.gateways.forEach((gw, i) => {
    const field = (f: string): string => `gateways[${i}].${f}`;
    checkText(field('name'), gw.name);
    checkKey(field('public_key'), gw.public_key);
    const earlier: [string, number, string, Uint8Array][] = [
      ...g.nodes.map((nd, j): [string, number, string, Uint8Array] => ['nodes', j, nd.name, nd.public_key]),
      ...g.gateways
        .slice(0, i)
        .map((o, j): [string, number, string, Uint8Array] => ['gateways', j, o.name, o.public_key]),
    ];
    for (const [list, j, name, key] of earlier) {
      if (bytesEqual(key, gw.public_key)) throw invalid(field('public_key'), `same key as ${list}[${j}]`);
      if (name === gw.name) {
        throw invalid(field('name'), `same name as ${list}[${j}]: ${JSON.stringify(gw.name)}`);
      }
    }
  });
  if (g.tsa_root !== undefined) {
    const der = decodeLowerHex(g.tsa_root);
    if (der === null) throw invalid('tsa_root', 'expected lower-case hex of DER bytes');
    if (der.length === 0 || der.length > MAX_TSA_ROOT_LEN || der[0] !== 0x30) {
      throw invalid(
        'tsa_root',
        `expected a DER certificate (a SEQUENCE) of 1 to ${MAX_TSA_ROOT_LEN} bytes, got ${der.length} bytes`,
      );
    }
  }
}
