// Typed reading of a parsed JSON tree, with serde's rules for tickchain's types.
//
// Owns: what each field type accepts (integers by width, exact-length hex, `0x` hex, strings,
// lists, optional values where `null` means absent), structs that refuse unknown and duplicate
// fields and name missing ones, and the field path of every error.
// Never: knows which document it reads (proof-json and genesis-json name the fields), or
// accepts a float, a numeric string or a value out of range for an integer field.
import { describe, formatPath } from './json.js';
import { decodeHex, decodeHex0x } from './hex.js';
/** A schema violation at a path; the callers turn it into their own error type. */
export class SchemaError extends Error {
    path;
    constructor(message, path) {
        super(message);
        this.name = 'SchemaError';
        this.path = formatPath(path);
    }
}
function invalidType(v, expected, path) {
    throw new SchemaError(`invalid type: ${describe(v)}, expected ${expected}`, path);
}
function integer(v, path, name, min, max) {
    if (v.kind !== 'number' || v.int === null)
        invalidType(v, name, path);
    if (v.int < min || v.int > max) {
        throw new SchemaError(`invalid value: integer \`${v.int}\`, expected ${name}`, path);
    }
    return v.int;
}
export const u8 = (v, p) => Number(integer(v, p, 'u8', 0n, 0xffn));
export const u16 = (v, p) => Number(integer(v, p, 'u16', 0n, 0xffffn));
export const u32 = (v, p) => Number(integer(v, p, 'u32', 0n, 0xffffffffn));
export const u64 = (v, p) => integer(v, p, 'u64', 0n, (1n << 64n) - 1n);
export const i64 = (v, p) => integer(v, p, 'i64', -(1n << 63n), (1n << 63n) - 1n);
export function str(v, path) {
    if (v.kind !== 'string')
        invalidType(v, 'a string', path);
    return v.value;
}
/** Exactly `n` bytes as hex, either case, no prefix (Hash, Digest, Salt, keys, signatures). */
export function hexBytes(n) {
    return (v, path) => {
        const s = str(v, path);
        const r = decodeHex(s, n);
        if (typeof r === 'string')
            throw new SchemaError(r, path);
        return r;
    };
}
/** Exactly `n` bytes as `0x` hex (EVM addresses, transaction hashes, secp256k1 signatures). */
export function hex0x(n, field) {
    return (v, path) => {
        const s = str(v, path);
        const r = decodeHex0x(s, n, field);
        if (typeof r === 'string')
            throw new SchemaError(r, path);
        return r;
    };
}
export function list(item) {
    return (v, path) => {
        if (v.kind !== 'array')
            invalidType(v, 'a sequence', path);
        return v.items.map((x, i) => item(x, [...path, i]));
    };
}
/** serde's `Option<T>`: JSON `null` is `None`. */
export function optional(inner) {
    return (v, path) => (v.kind === 'null' ? undefined : inner(v, path));
}
export function required(decode) {
    return { decode, required: true };
}
/** A field with a serde default: absent means the caller's default. */
export function defaulted(decode) {
    return { decode, required: false };
}
/**
 * A `#[serde(deny_unknown_fields)]` struct: fields decoded in document order; an unknown key
 * fails at its own path, a repeated or missing one at the struct's path (as
 * serde_path_to_error reports them).
 */
export function struct(shape, v, path) {
    if (v.kind !== 'object')
        invalidType(v, 'a map', path);
    const names = Object.keys(shape);
    const out = {};
    const seen = new Set();
    for (const [key, value] of v.entries) {
        const field = Object.prototype.hasOwnProperty.call(shape, key) ? shape[key] : undefined;
        if (field === undefined) {
            const expected = names.map((n) => `\`${n}\``).join(', ');
            throw new SchemaError(`unknown field \`${key}\`, expected one of ${expected}`, [...path, key]);
        }
        if (seen.has(key))
            throw new SchemaError(`duplicate field \`${key}\``, path);
        seen.add(key);
        out[key] = field.decode(value, [...path, key]);
    }
    for (const name of names) {
        if (shape[name]?.required && !seen.has(name)) {
            throw new SchemaError(`missing field \`${name}\``, path);
        }
    }
    return out;
}
