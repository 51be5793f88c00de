// Reading test JSON without JSON.parse's rounding: integers as bigint (dist/json.js's parser).
//
// Owns: `readLossless`, a parsed tree as plain values. Never: used by the library.

import { readFileSync } from 'node:fs';
import { parseJson } from '../../dist/json.js';

export function toPlain(v) {
  switch (v.kind) {
    case 'null':
      return null;
    case 'bool':
    case 'string':
      return v.value;
    case 'number':
      return v.int ?? Number(v.text);
    case 'array':
      return v.items.map(toPlain);
    case 'object':
      return Object.fromEntries(v.entries.map(([k, x]) => [k, toPlain(x)]));
  }
  throw new Error(v.kind);
}

export function readLossless(path) {
  return toPlain(parseJson(readFileSync(path, 'utf8')));
}
