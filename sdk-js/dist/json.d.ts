/** A parsed JSON value. Object entries keep document order and duplicates (schemas refuse them). */
export type JsonValue = {
    readonly kind: 'null';
} | {
    readonly kind: 'bool';
    readonly value: boolean;
} | {
    readonly kind: 'number';
    readonly text: string;
    readonly int: bigint | null;
} | {
    readonly kind: 'string';
    readonly value: string;
} | {
    readonly kind: 'array';
    readonly items: readonly JsonValue[];
} | {
    readonly kind: 'object';
    readonly entries: readonly (readonly [string, JsonValue])[];
};
/** One step of a path into a document: an object key or an array index. */
export type PathSegment = string | number;
/** A field path as serde_path_to_error prints it: `tick.prev_hash`, `votes[2].signer`, `.`. */
export declare function formatPath(path: readonly PathSegment[]): string;
/** A syntax error: where (field path, line, column) and what. */
export declare class JsonSyntaxError extends Error {
    readonly path: string;
    constructor(message: string, path: string);
}
/** Parses one JSON document; throws `JsonSyntaxError`. */
export declare function parseJson(text: string): JsonValue;
/**
 * Where the first JSON value of `text` (and the whitespace after it) ends, or null when it does
 * not parse. Only for diagnostics: the Rust SDK reads a proof's or genesis's JSON with
 * `serde_json::Deserializer::from_str` and never calls `end()`, so it ignores whatever follows
 * the first value; this verifier refuses it (see README, "Known differences").
 */
export declare function jsonPrefixEnd(text: string): number | null;
/** A short name for a value's type, for error messages (`invalid type: string, expected u64`). */
export declare function describe(v: JsonValue): string;
