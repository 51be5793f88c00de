// Field-level mutations of a JSON proof: one value, key or list changed in the parsed tree.
//
// Owns: edits of the JSON form that keep it JSON: numbers set to boundary values (widths,
// signs, -0, floats, 2^53 + 1, 2^63, 2^64), hex strings damaged (a digit, the case, the length,
// the 0x prefix), lists shortened, lengthened, reordered or emptied, keys removed, repeated,
// renamed or added, values replaced by another type. Never: re-signs (see reseal.mjs).

import { parseJson } from '../../dist/json.js';
import { renderTree, renderTreeCompact } from './proof-writer.mjs';

const NUMBERS = [
  '0', '1', '2', '3', '-1', '-0', '1.0', '1e2', '0.5', '255', '256', '65535', '65536', '1023', '1024',
  '4294967295', '4294967296', '9007199254740993', '9223372036', '9223372037', '1764000000',
  '1764000010', '9223372036854775807', '9223372036854775808', '-9223372036854775808',
  '-9223372036854775809', '18446744073709551615', '18446744073709551616', '00', '01',
];

function collect(v, path, out) {
  out.push({ node: v, path });
  if (v.kind === 'array') v.items.forEach((x, i) => collect(x, [...path, i], out));
  if (v.kind === 'object') v.entries.forEach(([k, x]) => collect(x, [...path, k], out));
  return out;
}

function replaceAt(root, path, make) {
  if (path.length === 0) return make(root);
  const [head, ...rest] = path;
  if (root.kind === 'array') {
    return { kind: 'array', items: root.items.map((x, i) => (i === head ? replaceAt(x, rest, make) : x)) };
  }
  return { kind: 'object', entries: root.entries.map(([k, x]) => (k === head ? [k, replaceAt(x, rest, make)] : [k, x])) };
}

/** A number node written as `text` (which may be invalid JSON on purpose, like `01`). */
const num = (text) => ({ kind: 'number', text, int: null });

function mutateNumber(node, rng) {
  if (rng.chance(0.5)) return num(rng.pick(NUMBERS));
  if (node.int === null) return num('0');
  const delta = BigInt(rng.pick([1, -1, 2, -2, 1000, -1000, 1_000_000, -1_000_000, 1_000_000_000]));
  return num(String(node.int + delta));
}

const HEX = '0123456789abcdef';

function mutateString(node, rng) {
  const s = node.value;
  const str = (value) => ({ kind: 'string', value });
  switch (rng.int(9)) {
    case 0:
    case 1: {
      if (s.length === 0) return str('0');
      const i = rng.int(s.length);
      return str(s.slice(0, i) + rng.pick(HEX) + s.slice(i + 1));
    }
    case 2:
      return str(s.toUpperCase());
    case 3:
      return str(s.slice(0, Math.max(0, s.length - 1 - rng.int(3))));
    case 4:
      return str(s + rng.pick(['0', '00', 'g', ' ']));
    case 5:
      return str(s.startsWith('0x') ? s.slice(2) : `0x${s}`);
    case 6:
      return str(s.startsWith('0x') ? `0X${s.slice(2)}` : s.replace(/[0-9a-f]/, 'G'));
    case 7:
      return num(rng.pick(NUMBERS));
    default:
      return str('');
  }
}

function mutateArray(node, rng) {
  const items = [...node.items];
  if (items.length === 0) return { kind: 'array', items: [] };
  const i = rng.int(items.length);
  switch (rng.int(5)) {
    case 0:
      items.splice(i, 1);
      break;
    case 1:
      items.splice(i, 0, items[i]);
      break;
    case 2: {
      const j = rng.int(items.length);
      [items[i], items[j]] = [items[j], items[i]];
      break;
    }
    case 3:
      items.push(items[i]);
      break;
    default:
      return { kind: 'array', items: [] };
  }
  return { kind: 'array', items };
}

function mutateObject(node, rng) {
  const entries = [...node.entries];
  if (entries.length === 0) return { kind: 'object', entries: [['extra', { kind: 'null' }]] };
  const i = rng.int(entries.length);
  switch (rng.int(6)) {
    case 0:
      entries.splice(i, 1);
      break;
    case 1:
      entries.push(entries[i]);
      break;
    case 2:
      entries[i] = [`${entries[i][0]}_`, entries[i][1]];
      break;
    case 3:
      entries.push([rng.pick(['extra', 'descendants', 'anchors', 'comment']), rng.pick([{ kind: 'array', items: [] }, { kind: 'null' }, num('0')])]);
      break;
    case 4:
      entries.reverse();
      break;
    default:
      entries[i] = [entries[i][0], { kind: 'null' }];
  }
  return { kind: 'object', entries };
}

/** One edit of a JSON proof text; returns the new text and a description. */
export function mutateJson(text, rng) {
  const root = parseJson(text);
  const nodes = collect(root, [], []);
  const { node, path } = rng.pick(nodes);
  const make = (n) => {
    if (rng.chance(0.08)) return rng.pick([{ kind: 'null' }, { kind: 'bool', value: true }, { kind: 'object', entries: [] }, { kind: 'array', items: [] }]);
    switch (n.kind) {
      case 'number':
        return mutateNumber(n, rng);
      case 'string':
        return mutateString(n, rng);
      case 'array':
        return mutateArray(n, rng);
      case 'object':
        return mutateObject(n, rng);
      default:
        return num('0');
    }
  };
  const mutated = replaceAt(root, path, make);
  const out = rng.chance(0.1) ? renderTreeCompact(mutated) : renderTree(mutated);
  return { text: `${out}\n`, what: `${path.join('.') || '(root)'} (${node.kind})` };
}
