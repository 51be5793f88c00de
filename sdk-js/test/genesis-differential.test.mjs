// Differential test of genesis loading: the JS `parseGenesis` and the Rust `Genesis::from_json`
// (through the CLI, which exits 2 when the genesis is not acceptable) accept and refuse the same
// documents: seeded edits of each rule of specs/encoding.md §3.1 (versions, text lengths in
// UTF-8 bytes, ring size, f, quorum, keys, names, attestation bindings, gateways, TSA root),
// mostly with the hash recomputed so the rule itself decides, and JSON-level edits. When both
// accept, the proof's verdict must agree too.
//
// Env: TICKCHAIN_CLI, TICKCHAIN_GENESIS_DIFF_COUNT (default 300), TICKCHAIN_DIFF_SEED.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { parseGenesis, verifiedToJson, verifyProof } from '../dist/index.js';
import { classifyJs, findCli, runCli, sameVerdict, VECTORS } from './helpers/cli.mjs';
import { T8 } from './helpers/ed25519-craft.mjs';
import { genesisToJson, withHash } from './helpers/genesis-writer.mjs';
import { publicKey, seeded } from './helpers/keys.mjs';
import { mutateJson } from './helpers/mutate-json.mjs';
import { Rng } from './helpers/rng.mjs';

const COUNT = Number(process.env.TICKCHAIN_GENESIS_DIFF_COUNT ?? 300);
const SEED = Number(process.env.TICKCHAIN_DIFF_SEED ?? 20251206);

const load = (file) => parseGenesis(readFileSync(join(VECTORS, file), 'utf8'));
const v1 = (g) => withHash({ ...g, version: 1, nodes: g.nodes.map(({ attestation, ...n }) => n) });
const BASES = [
  { name: 'v2 (genesis-4)', genesis: load('genesis-4.json'), proof: 'valid-3of4.tcproof' },
  { name: 'v2 (genesis-7)', genesis: load('genesis-7.json'), proof: 'valid-5of7.tcproof' },
  { name: 'v3 (genesis-gateways)', genesis: load('genesis-gateways.json'), proof: 'valid-gateway.tcproof' },
  { name: 'v1 (genesis-4 without bindings)', genesis: v1(load('genesis-4.json')), proof: 'valid-3of4.tcproof' },
];
const key = (label) => publicKey(seeded(`sdk-js/genesis-diff/${label}`));

function flip(bytes, i, bit = 1) {
  const out = Uint8Array.from(bytes);
  out[i] ^= bit;
  return out;
}

/** Typed edits; each changes a structuredClone of the genesis in place. */
const EDITS = [
  ['version', (g, rng) => { g.version = rng.pick([0, 1, 2, 3, 4, 255]); }],
  ['chain_id', (g, rng) => {
    g.chain_id = rng.pick(['', 'x'.repeat(255), 'x'.repeat(256), `${'é'.repeat(127)}x`, 'é'.repeat(128), 'ü']);
  }],
  ['drop node', (g, rng) => {
    g.nodes.splice(rng.int(g.nodes.length), 1);
    if (rng.chance(0.5)) g.quorum = g.nodes.length - g.f;
    if (rng.chance(0.3)) {
      g.f = Math.floor(Math.max(g.nodes.length - 1, 0) / 3);
      g.quorum = g.nodes.length - g.f;
    }
  }],
  ['f', (g, rng) => {
    g.f = rng.pick([0, g.f + 1, g.f - 1 < 0 ? 0 : g.f - 1, 65535]);
    if (rng.chance(0.6)) g.quorum = Math.max(0, g.nodes.length - g.f);
  }],
  ['quorum', (g, rng) => { g.quorum = rng.pick([g.quorum + 1, g.quorum - 1, 0, g.nodes.length]); }],
  ['name', (g, rng) => {
    const i = rng.int(g.nodes.length);
    g.nodes[i].name = rng.pick([g.nodes[(i + 1) % g.nodes.length].name, '', 'n'.repeat(256), 'n'.repeat(255), 'ñ']);
  }],
  ['address', (g, rng) => { g.nodes[rng.int(g.nodes.length)].address = rng.pick(['', 'a'.repeat(256), '[::1]:1']); }],
  ['public key', (g, rng) => {
    const i = rng.int(g.nodes.length);
    g.nodes[i].public_key = rng.pick([
      g.nodes[(i + 1) % g.nodes.length].public_key,
      T8.toBytes(),
      new Uint8Array(32),
      key(`node/${i}`),
      flip(g.nodes[i].public_key, 0),
    ]);
  }],
  ['attestation', (g, rng) => {
    const i = rng.int(g.nodes.length);
    const n = g.nodes[i];
    const other = g.nodes[(i + 1) % g.nodes.length];
    switch (rng.int(6)) {
      case 0:
        delete n.attestation;
        break;
      case 1:
        if (n.attestation && other.attestation) n.attestation.address = other.attestation.address;
        break;
      case 2:
        if (n.attestation) n.attestation.ed25519_signature = flip(n.attestation.ed25519_signature, rng.int(64));
        break;
      case 3:
        if (n.attestation) n.attestation.evm_signature = flip(n.attestation.evm_signature, 64, rng.pick([1, 2, 6]));
        break;
      case 4:
        if (n.attestation) n.attestation.evm_signature = flip(n.attestation.evm_signature, rng.int(64), 1 << rng.int(8));
        break;
      default:
        if (other.attestation && !n.attestation) n.attestation = structuredClone(other.attestation);
        else if (n.attestation && other.attestation) n.attestation = structuredClone(other.attestation);
    }
  }],
  ['gateways', (g, rng) => {
    switch (rng.int(7)) {
      case 0:
        g.gateways.push({ name: `gw-${rng.int(9)}`, public_key: key(`gw/${rng.int(9)}`) });
        break;
      case 1:
        g.gateways = [];
        break;
      case 2:
        g.gateways.push({ name: g.nodes[0].name, public_key: key('gw/name-clash') });
        break;
      case 3:
        g.gateways.push({ name: 'gw-key-clash', public_key: g.nodes[rng.int(g.nodes.length)].public_key });
        break;
      case 4:
        g.gateways.push({ name: rng.pick(['', 'g'.repeat(256)]), public_key: key('gw/text') });
        break;
      case 5:
        g.gateways.push({ name: 'gw-weak', public_key: T8.toBytes() });
        break;
      default:
        g.gateways = Array.from({ length: rng.pick([256, 257]) }, (_, i) => ({ name: `gw-${i}`, public_key: key(`gw/many/${i}`) }));
    }
    if (rng.chance(0.5)) g.version = 3;
  }],
  ['tsa_root', (g, rng) => {
    const pick = rng.pick(['3003020101', '3003020101'.toUpperCase(), '300', '', '31020000', `30${'00'.repeat(4095)}`, `30${'00'.repeat(4096)}`, undefined, 'zz']);
    if (pick === undefined) delete g.tsa_root;
    else g.tsa_root = pick;
    if (rng.chance(0.5)) g.version = 3;
  }],
  ['timing', (g, rng) => {
    g.max_early_ms = rng.pick([0, 1, 4294967295]);
    g.max_late_ms = rng.pick([0, 1, 4294967295]);
    g.genesis_second = rng.pick([0n, (1n << 64n) - 1n, 1764000009n]);
  }],
  ['nothing', () => {}],
];

function genesisCase(rng, dir, i) {
  const base = rng.pick(BASES);
  const proofBytes = readFileSync(join(VECTORS, 'proofs', base.proof));
  const g = structuredClone(base.genesis);
  const [name, edit] = rng.pick(EDITS);
  edit(g, rng);
  const final = rng.chance(0.85) ? withHash(g) : g;
  let text = genesisToJson(final);
  let what = `${base.name}: ${name}`;
  if (rng.chance(0.2)) {
    const m = mutateJson(text, rng);
    text = m.text;
    what = `${base.name}: json ${m.what}`;
  }
  const path = join(dir, `genesis-${i}.json`);
  writeFileSync(path, text);
  return { what, text, bytes: proofBytes, genesisPath: path };
}

test(`genesis differential: JS and Rust accept the same ${COUNT} edited genesis files`, { timeout: 600_000 }, async () => {
  const cli = findCli();
  const rng = new Rng(SEED);
  const dir = mkdtempSync(join(tmpdir(), 'tickchain-genesis-diff-'));
  try {
    const cases = Array.from({ length: COUNT }, (_, i) => genesisCase(rng, dir, i));
    const rust = await runCli(cli, cases, 4);
    const disagreements = [];
    let accepted = 0;
    cases.forEach((c, i) => {
      let genesis = null;
      let error = null;
      try {
        genesis = parseGenesis(c.text);
      } catch (e) {
        error = e.message;
      }
      // Exit 2 is bad input: with these well-formed proofs, the genesis.
      const rustAccepts = rust[i].class !== 'decode';
      if ((genesis !== null) !== rustAccepts) {
        disagreements.push({ what: c.what, js: error ?? 'accepted', rust: rust[i].text ?? rust[i].class });
        return;
      }
      if (genesis === null) return;
      accepted += 1;
      const js = classifyJs(verifyProof(c.bytes, genesis), verifiedToJson);
      if (!sameVerdict(js, rust[i])) disagreements.push({ what: c.what, js, rust: rust[i] });
    });
    console.log(`genesis differential: ${COUNT} files (seed ${SEED}), ${accepted} accepted by both, ${COUNT - accepted - disagreements.length} refused by both, ${disagreements.length} disagreements`);
    for (const d of disagreements.slice(0, 10)) console.log(`DISAGREE ${d.what}: ${JSON.stringify(d.js)} / ${JSON.stringify(d.rust).slice(0, 300)}`);
    assert.equal(disagreements.length, 0);
    assert.ok(accepted > 0, 'some edited files are still valid');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
