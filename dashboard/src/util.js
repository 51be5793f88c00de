// Small helpers shared by the dashboard's panels.
// Owns: DOM lookup, number and time formatting, hex. Never: network calls.

/** The element with `id` (the page is static: a missing one is a bug). */
export const $ = (id) => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el;
};

/** Milliseconds with one decimal, from nanoseconds (number or bigint). */
export const ms = (ns) => `${(Number(ns) / 1e6).toFixed(1)} ms`;

/** ISO 8601 UTC of a POSIX second. */
export const isoSecond = (s) => new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z');

/** ISO 8601 UTC with milliseconds, of POSIX nanoseconds (bigint). */
export const isoNanos = (ns) => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();

/** Lower-case hex of bytes. */
export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** A table row of text cells; `classes` per cell (optional). */
export function row(cells, classes = []) {
  const tr = document.createElement('tr');
  cells.forEach((text, i) => {
    const td = document.createElement('td');
    td.textContent = String(text);
    if (classes[i]) td.className = classes[i];
    tr.appendChild(td);
  });
  return tr;
}

/** GET `path` as JSON (display only: numbers above 2^53 lose precision, never a proof). */
export async function getJson(path) {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}
