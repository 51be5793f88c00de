import type { Genesis } from './genesis.js';
/**
 * Parses and validates a genesis document (text, or bytes that must be UTF-8), as
 * `Genesis::from_json`: throws `GenesisError` naming the field at fault.
 */
export declare function parseGenesis(input: string | Uint8Array): Genesis;
