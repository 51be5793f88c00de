// The verify panel: a dropped or chosen proof (either form), optionally its document and a
// genesis, checked entirely in the page with the TypeScript verifier (sdk-js).
// Owns: reading the files and showing the outcome. Never: sends any of them anywhere (the
// only request is this node's genesis, when none is given).
import { verifyProof } from '../../sdk-js/dist/index.js';
import { $, isoNanos } from './util.js';
import { nodeGenesis, sha256File } from './stamp.js';

const files = { proof: null, document: null, genesis: null };

async function check() {
  const out = $('verify-result');
  if (!files.proof) {
    out.dataset.outcome = '';
    out.textContent = 'choose or drop a proof';
    return;
  }
  const proofBytes = new Uint8Array(await files.proof.arrayBuffer());
  const genesis = files.genesis ? await files.genesis.text() : await nodeGenesis();
  const v = verifyProof(proofBytes, genesis);
  if (!v.ok) {
    out.dataset.outcome = 'failed';
    out.dataset.code = v.code;
    out.textContent = `FAILED ${v.code}: ${v.message}`;
    return;
  }
  if (files.document) {
    const digest = await sha256File(files.document);
    if (digest !== v.result.digest) {
      out.dataset.outcome = 'failed';
      out.dataset.code = 'document_mismatch';
      out.textContent = `FAILED document_mismatch: SHA-256 of ${files.document.name} is ${digest}, the proof is for ${v.result.digest}`;
      return;
    }
  }
  const r = v.result;
  out.dataset.outcome = 'ok';
  out.dataset.code = 'ok';
  out.textContent =
    `OK  digest ${r.digest} existed no later than ${isoNanos(r.latest)}\n` +
    (files.document ? `    document ${files.document.name} matches the digest\n` : '') +
    `    tick ${r.height} for ${isoNanos(r.second * 1_000_000_000n)}, certified by ${r.signers.length} signers (${r.signers.join(', ')})\n` +
    `    window ${isoNanos(r.earliest)} … ${isoNanos(r.latest)}` +
    (files.genesis ? `\n    genesis ${files.genesis.name}` : "\n    genesis: this node's");
}

function run() {
  check().catch((e) => {
    $('verify-result').dataset.outcome = 'failed';
    $('verify-result').textContent = `FAILED: ${e.message}`;
  });
}

/** Sorts dropped files: a genesis (JSON with `nodes`), a proof (.tcproof or TCPF), or the document. */
async function classify(file) {
  const head = new Uint8Array(await file.slice(0, 4096).arrayBuffer());
  const text = new TextDecoder().decode(head);
  if (text.startsWith('TCPF') || file.name.endsWith('.tcproof') || file.name.endsWith('.tcproof.bin')) return 'proof';
  if (text.trimStart().startsWith('{') && text.includes('"nodes"') && text.includes('"genesis_second"')) return 'genesis';
  return 'document';
}

/** Wires the panel. */
export function start() {
  for (const kind of ['proof', 'document', 'genesis']) {
    $(`verify-${kind}`).addEventListener('change', (e) => {
      files[kind] = e.target.files?.[0] ?? null;
      run();
    });
  }
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    for (const file of e.dataTransfer?.files ?? []) files[await classify(file)] = file;
    run();
  });
}
