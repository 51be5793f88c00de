import type { Proof } from './types.js';
export declare const MAX_ANCHORS = 8;
/** Decodes the JSON form; throws `JsonSyntaxError` or `SchemaError` (both carry a path). */
export declare function decodeJsonProof(text: string): Proof;
