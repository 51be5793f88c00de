import { type Genesis } from './genesis.js';
export declare const MAX_NODES = 1024;
export declare const MAX_TEXT_LEN = 255;
export declare const MAX_GATEWAYS = 256;
export declare const MAX_TSA_ROOT_LEN = 4096;
/** Throws `GenesisError` at the first rule `g` breaks, in `Genesis::validate`'s order. */
export declare function validateGenesis(g: Genesis): void;
