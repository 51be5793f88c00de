// Differential test: the JS verifier and the Rust CLI agree on every vector and on thousands of
// seeded random mutations of them (bytes damaged, JSON fields changed, claims changed and
// re-signed with the vector networks' public test keys).
//
// Env: TICKCHAIN_CLI (path of the Rust CLI; default ../target/debug/tickchain; missing = FAIL),
// TICKCHAIN_DIFF_COUNT (mutations, default 2000), TICKCHAIN_DIFF_SEED (default 20251206),
// TICKCHAIN_DIFF_JOBS (concurrent CLI processes, default 4). Disagreements are written to
// $TMPDIR/tickchain-diff-disagreements.json with each input in base64, to replay by hand.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import { Network, parseGenesis, parseProof, verifiedToJson, verifyProof } from '../dist/index.js';
import { classifyJs, findCli, runCli, sameVerdict, VECTORS } from './helpers/cli.mjs';
import { networkKeys, SEEDS } from './helpers/keys.mjs';
import { mutateBytes } from './helpers/mutate-bytes.mjs';
import { mutateJson } from './helpers/mutate-json.mjs';
import { proofToCompact, proofToJson } from './helpers/proof-writer.mjs';
import { sealedMutation } from './helpers/reseal.mjs';
import { Rng } from './helpers/rng.mjs';

const COUNT = Number(process.env.TICKCHAIN_DIFF_COUNT ?? 2000);
const SEED = Number(process.env.TICKCHAIN_DIFF_SEED ?? 20251206);
const JOBS = Number(process.env.TICKCHAIN_DIFF_JOBS ?? 4);

const index = JSON.parse(readFileSync(join(VECTORS, 'index.json'), 'utf8'));
const geneses = {};
for (const file of new Set(index.map((c) => c.genesis))) {
  const genesis = parseGenesis(readFileSync(join(VECTORS, file), 'utf8'));
  geneses[file] = {
    path: join(VECTORS, file),
    genesis,
    network: new Network(genesis),
    keys: networkKeys(SEEDS[file], genesis.nodes.length, genesis.gateways.length),
  };
}

/** The unmutated vectors, and each parsable one in the other form too. */
function baseline() {
  const cases = [];
  for (const c of index) {
    const bytes = new Uint8Array(readFileSync(join(VECTORS, c.proof)));
    cases.push({ family: 'vector', what: c.name, bytes, genesis: c.genesis });
    let proof;
    try {
      proof = parseProof(bytes);
    } catch {
      continue;
    }
    const other = c.proof.endsWith('.bin') ? new TextEncoder().encode(proofToJson(proof)) : proofToCompact(proof);
    if (other !== null) cases.push({ family: 'vector', what: `${c.name} (other form)`, bytes: other, genesis: c.genesis });
  }
  return cases;
}

function mutation(rng) {
  const c = rng.pick(index);
  const bytes = new Uint8Array(readFileSync(join(VECTORS, c.proof)));
  let proof;
  try {
    proof = parseProof(bytes);
  } catch {
    proof = null;
  }
  const roll = rng.int(10);
  if (roll < 3 || proof === null) {
    // Damaged bytes, half of the time of the compact twin (the vectors are mostly JSON).
    const compact = proof !== null && rng.chance(0.5) ? proofToCompact(proof) : null;
    const m = mutateBytes(compact ?? bytes, rng);
    const family = compact !== null || c.proof.endsWith('.bin') ? 'bytes-compact' : 'bytes-json';
    return { family, what: `${c.name}: ${m.what}`, bytes: m.bytes, genesis: c.genesis };
  }
  if (roll < 6) {
    const text = c.proof.endsWith('.bin') ? proofToJson(proof) : new TextDecoder().decode(bytes);
    const m = mutateJson(text, rng);
    return { family: 'json-field', what: `${c.name}: ${m.what}`, bytes: new TextEncoder().encode(m.text), genesis: c.genesis };
  }
  const g = geneses[c.genesis];
  const m = sealedMutation(proof, g.genesis, g.keys, rng);
  const compact = rng.chance(0.5) ? proofToCompact(m.proof) : null;
  return {
    family: compact === null ? 'sealed-json' : 'sealed-compact',
    what: `${c.name}: ${m.what}`,
    bytes: compact ?? new TextEncoder().encode(proofToJson(m.proof)),
    genesis: c.genesis,
  };
}

test(`differential: JS and Rust agree on the vectors and ${COUNT} mutations (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const cli = findCli();
  const rng = new Rng(SEED);
  const cases = baseline();
  const vectorCases = cases.length;
  while (cases.length < vectorCases + COUNT) cases.push(mutation(rng));

  const started = Date.now();
  const js = cases.map((c) => classifyJs(verifyProof(c.bytes, geneses[c.genesis].network), verifiedToJson));
  const jsMs = Date.now() - started;
  const rust = await runCli(cli, cases.map((c) => ({ bytes: c.bytes, genesisPath: geneses[c.genesis].path })), JOBS);
  const rustMs = Date.now() - started - jsMs;

  const tally = {};
  const disagreements = [];
  cases.forEach((c, i) => {
    const key = `${c.family} -> ${rust[i].class === 'code' ? rust[i].code : rust[i].class}`;
    tally[key] = (tally[key] ?? 0) + 1;
    if (sameVerdict(js[i], rust[i])) return;
    disagreements.push({ ...c, bytes: Buffer.from(c.bytes).toString('base64'), js: js[i], rust: rust[i] });
  });
  const lines = Object.entries(tally).sort().map(([k, v]) => `  ${String(v).padStart(5)}  ${k}`);
  console.log(
    `differential: ${vectorCases} vector cases + ${COUNT} mutations (seed ${SEED}); JS ${jsMs} ms, Rust CLI ${rustMs} ms\n` +
      `(Rust verdict per family)\n${lines.join('\n')}\n` +
      `agree: ${cases.length - disagreements.length}; disagree: ${disagreements.length}`,
  );
  if (disagreements.length > 0) {
    const file = join(tmpdir(), 'tickchain-diff-disagreements.json');
    writeFileSync(file, JSON.stringify(disagreements, null, 2));
    for (const d of disagreements.slice(0, 10)) {
      console.log(`DISAGREE ${d.family} ${d.what}: js ${JSON.stringify(d.js)} rust ${JSON.stringify({ ...d.rust, text: d.rust.text?.slice(0, 300) })}`);
    }
    console.log(`all ${disagreements.length} disagreements: ${file}`);
  }
  const unexpected = rust.filter((r) => r.class === 'unexpected');
  assert.equal(unexpected.length, 0, `the CLI answered unexpectedly: ${JSON.stringify(unexpected.slice(0, 3))}`);
  assert.equal(disagreements.length, 0, `${disagreements.length} disagreements between JS and Rust`);
});
