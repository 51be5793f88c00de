// The Rust reference verifier, as a process: `tickchain verify FILE --genesis G --json
// --no-clock-check`, its verdict read from the exit code and output.
//
// Owns: finding the CLI (env TICKCHAIN_CLI, else ../target/debug/tickchain beside sdk-js; a
// missing CLI is an error, never a skip), running it on bytes through a temp file with bounded
// concurrency, and classifying its verdict: exit 0 `ok` (with its JSON result), exit 1
// `FAILED <code>` (the code), exit 2 `decode` (input could not be read or parsed).
// Never: retries, or reads a verdict from anything but the exit code and that one line.

import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, '..', '..', '..');
export const VECTORS = join(REPO, 'specs', 'vectors');

/** The CLI's path, or throws with what to do about it. */
export function findCli() {
  const path = process.env.TICKCHAIN_CLI || join(REPO, 'target', 'debug', 'tickchain');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `the Rust CLI is needed for the differential test and was not found at ${path}: ` +
        'build it (cargo build -p tickchain-sdk --bin tickchain) or set TICKCHAIN_CLI to its path',
    );
  }
  return path;
}

/** Runs the CLI on each job `{bytes, genesisPath}`; resolves to verdicts in job order. */
export async function runCli(cli, jobs, concurrency = 4) {
  const dir = mkdtempSync(join(tmpdir(), 'tickchain-diff-'));
  const verdicts = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      const file = join(dir, `proof-${i}`);
      writeFileSync(file, jobs[i].bytes);
      verdicts[i] = await runOne(cli, file, jobs[i].genesisPath);
      rmSync(file, { force: true });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return verdicts;
}

function runOne(cli, file, genesisPath) {
  const args = ['verify', file, '--genesis', genesisPath, '--json', '--no-clock-check'];
  return new Promise((resolvePromise) => {
    execFile(cli, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 60_000 }, (err, stdout, stderr) => {
      const status = err ? err.code : 0;
      if (status === 0) {
        resolvePromise({ class: 'ok', json: stdout });
        return;
      }
      const text = `${stdout}\n${stderr}`;
      if (status === 1) {
        const m = /FAILED ([a-z_]+):/.exec(text);
        resolvePromise(m ? { class: 'code', code: m[1], text } : { class: 'unexpected', status, text });
        return;
      }
      if (status === 2) {
        resolvePromise({ class: 'decode', text });
        return;
      }
      resolvePromise({ class: 'unexpected', status, text: `${text} ${err?.message ?? ''}` });
    });
  });
}

/** The JS outcome (`verifyProof`) in the CLI's classes. */
export function classifyJs(outcome, verifiedToJson) {
  if (outcome.ok) return { class: 'ok', json: `${verifiedToJson(outcome.result)}\n` };
  if (outcome.code === 'format_error' || outcome.code === 'genesis_error') return { class: 'decode' };
  return { class: 'code', code: outcome.code };
}

/** True when two verdicts agree: same class, same code, and for `ok` the same JSON result. */
export function sameVerdict(a, b) {
  if (a.class !== b.class) return false;
  if (a.class === 'code') return a.code === b.code;
  if (a.class === 'ok') return a.json === b.json;
  return true;
}
