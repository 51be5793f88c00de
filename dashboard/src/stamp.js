// The stamp panel: a file's SHA-256 computed in the page with a streaming hash (the file never
// leaves; crypto.subtle needs a secure context, so it is not used), submitted to this node, and
// the proof offered for download once final, verified in the page first.
// Owns: hashing, the submit-and-wait request, the download link. Never: sends file bytes.
import { sha256 } from '@noble/hashes/sha2.js';
import { verifyProof } from '../../sdk-js/dist/index.js';
import { jsonPrefixEnd } from '../../sdk-js/dist/json.js';
import { $, hex, isoNanos } from './util.js';

/** SHA-256 of `file`, read in chunks. */
export async function sha256File(file) {
  const h = sha256.create();
  const reader = file.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
  }
  return hex(h.digest());
}

/** The proof object's exact text inside `{"proofs":[…]}` (no JSON.parse: it rounds integers). */
function firstProofText(body) {
  const start = body.indexOf('{', body.indexOf('['));
  const end = start < 0 ? null : jsonPrefixEnd(body.slice(start));
  if (end === null) throw new Error('the node answered without a proof');
  return body.slice(start, start + end);
}

let genesisText = null;

/** This node's genesis, fetched once. */
export async function nodeGenesis() {
  if (genesisText === null) {
    const r = await fetch('/v1/genesis', { cache: 'no-store' });
    if (!r.ok) throw new Error(`GET /v1/genesis: HTTP ${r.status}`);
    genesisText = await r.text();
  }
  return genesisText;
}

async function stamp(file) {
  const status = $('stamp-status');
  const link = $('stamp-download');
  link.hidden = true;
  status.dataset.state = 'working';
  status.textContent = `hashing ${file.name} in this page…`;
  const digest = await sha256File(file);
  status.textContent = `SHA-256 ${digest}: submitted, waiting for its tick to be final…`;
  const r = await fetch('/v1/timestamps?wait=true', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ digests: [digest] }),
  });
  const body = await r.text();
  if (r.status !== 200) throw new Error(`the node answered ${r.status}: ${body.slice(0, 200)}`);
  const proof = firstProofText(body);
  const out = verifyProof(proof, await nodeGenesis());
  if (!out.ok) throw new Error(`the node's proof does not verify: ${out.code}`);
  if (out.result.digest !== digest) throw new Error('the node returned a proof of another digest');
  link.href = URL.createObjectURL(new Blob([proof + '\n'], { type: 'application/json' }));
  link.download = `${file.name}.tcproof`;
  link.hidden = false;
  status.dataset.state = 'done';
  status.textContent = `final: tick ${out.result.height} for ${isoNanos(out.result.second * 1_000_000_000n)}, existed no later than ${isoNanos(out.result.latest)} (verified in this page)`;
}

/** Wires the panel. */
export function start() {
  $('stamp-file').addEventListener('change', (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    stamp(file).catch((err) => {
      $('stamp-status').dataset.state = 'failed';
      $('stamp-status').textContent = `FAILED: ${err.message}`;
    });
  });
}
