// A strict, lossless JSON parser: what serde_json accepts, with integers kept exact.
//
// Owns: turning JSON text into a tree whose integers are bigint (JSON.parse rounds clock
// readings above 2^53), with serde_json's rules: RFC 8259 syntax only (no BOM, no comments, no
// trailing commas, no trailing characters), whitespace ' ' \t \n \r, control characters
// refused inside strings, lone surrogate escapes refused, nesting capped like serde_json's
// recursion limit. Numbers are classified as serde_json does: an integer without fraction or
// exponent is exact when it fits u64 (or, negative and not -0, when it fits i64); anything else is
// a float, which no tickchain field accepts. A syntax error names the field being parsed.
// Never: interprets the tree (the schema decoders do) or loses a digit.
/** A field path as serde_path_to_error prints it: `tick.prev_hash`, `votes[2].signer`, `.`. */
export function formatPath(path) {
    let out = '';
    for (const seg of path) {
        if (typeof seg === 'number')
            out += `[${seg}]`;
        else
            out += out === '' ? seg : `.${seg}`;
    }
    return out === '' ? '.' : out;
}
/** A syntax error: where (field path, line, column) and what. */
export class JsonSyntaxError extends Error {
    path;
    constructor(message, path) {
        super(message);
        this.name = 'JsonSyntaxError';
        this.path = path;
    }
}
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN_MAGNITUDE = 1n << 63n;
/** serde_json starts at 128 and fails when a container brings it to 0: 127 levels nest. */
const MAX_DEPTH = 127;
class Parser {
    text;
    pos = 0;
    depth = 0;
    path = [];
    constructor(text) {
        this.text = text;
    }
    parseDocument() {
        const value = this.parsePrefix();
        if (this.pos < this.text.length)
            this.fail('trailing characters');
        return value;
    }
    /** The first value and the whitespace after it; `end()` is where the rest begins. */
    parsePrefix() {
        this.skipWhitespace();
        const value = this.parseValue();
        this.skipWhitespace();
        return value;
    }
    end() {
        return this.pos;
    }
    fail(what) {
        let line = 1;
        let column = 0;
        for (let i = 0; i < this.pos && i < this.text.length; i++) {
            if (this.text.charCodeAt(i) === 0x0a) {
                line += 1;
                column = 0;
            }
            else {
                column += 1;
            }
        }
        throw new JsonSyntaxError(`${what} at line ${line} column ${column + 1}`, formatPath(this.path));
    }
    skipWhitespace() {
        while (this.pos < this.text.length) {
            const c = this.text.charCodeAt(this.pos);
            if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d)
                this.pos += 1;
            else
                break;
        }
    }
    parseValue() {
        if (this.pos >= this.text.length)
            this.fail('EOF while parsing a value');
        const c = this.text[this.pos];
        switch (c) {
            case '{':
                return this.parseObject();
            case '[':
                return this.parseArray();
            case '"':
                return { kind: 'string', value: this.parseString() };
            case 't':
                this.expectWord('true');
                return { kind: 'bool', value: true };
            case 'f':
                this.expectWord('false');
                return { kind: 'bool', value: false };
            case 'n':
                this.expectWord('null');
                return { kind: 'null' };
            default:
                if (c === '-' || (c !== undefined && c >= '0' && c <= '9'))
                    return this.parseNumber();
                return this.fail('expected value');
        }
    }
    expectWord(word) {
        for (let i = 0; i < word.length; i++) {
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing a value');
            if (this.text[this.pos] !== word[i])
                this.fail('expected ident');
            this.pos += 1;
        }
    }
    enter() {
        this.depth += 1;
        if (this.depth > MAX_DEPTH)
            this.fail('recursion limit exceeded');
    }
    parseObject() {
        this.enter();
        this.pos += 1; // '{'
        const entries = [];
        this.skipWhitespace();
        if (this.text[this.pos] === '}') {
            this.pos += 1;
            this.depth -= 1;
            return { kind: 'object', entries };
        }
        for (;;) {
            this.skipWhitespace();
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing an object');
            if (this.text[this.pos] !== '"')
                this.fail('key must be a string');
            const key = this.parseString();
            this.skipWhitespace();
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing an object');
            if (this.text[this.pos] !== ':')
                this.fail('expected `:`');
            this.pos += 1;
            this.skipWhitespace();
            this.path.push(key);
            const value = this.parseValue();
            this.path.pop();
            entries.push([key, value]);
            this.skipWhitespace();
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing an object');
            const c = this.text[this.pos];
            this.pos += 1;
            if (c === '}')
                break;
            if (c !== ',') {
                this.pos -= 1;
                this.fail('expected `,` or `}`');
            }
            this.skipWhitespace();
            if (this.text[this.pos] === '}')
                this.fail('trailing comma');
        }
        this.depth -= 1;
        return { kind: 'object', entries };
    }
    parseArray() {
        this.enter();
        this.pos += 1; // '['
        const items = [];
        this.skipWhitespace();
        if (this.text[this.pos] === ']') {
            this.pos += 1;
            this.depth -= 1;
            return { kind: 'array', items };
        }
        for (;;) {
            this.skipWhitespace();
            this.path.push(items.length);
            items.push(this.parseValue());
            this.path.pop();
            this.skipWhitespace();
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing a list');
            const c = this.text[this.pos];
            this.pos += 1;
            if (c === ']')
                break;
            if (c !== ',') {
                this.pos -= 1;
                this.fail('expected `,` or `]`');
            }
            this.skipWhitespace();
            if (this.text[this.pos] === ']')
                this.fail('trailing comma');
        }
        this.depth -= 1;
        return { kind: 'array', items };
    }
    parseString() {
        this.pos += 1; // opening quote
        let out = '';
        let runStart = this.pos;
        for (;;) {
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing a string');
            const c = this.text.charCodeAt(this.pos);
            if (c === 0x22) {
                out += this.text.slice(runStart, this.pos);
                this.pos += 1;
                return out;
            }
            if (c < 0x20)
                this.fail('control character (\\u0000-\\u001F) found while parsing a string');
            if (c !== 0x5c) {
                this.pos += 1;
                continue;
            }
            out += this.text.slice(runStart, this.pos);
            this.pos += 1; // backslash
            if (this.pos >= this.text.length)
                this.fail('EOF while parsing a string');
            const e = this.text[this.pos];
            this.pos += 1;
            switch (e) {
                case '"':
                    out += '"';
                    break;
                case '\\':
                    out += '\\';
                    break;
                case '/':
                    out += '/';
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u':
                    out += this.parseUnicodeEscape();
                    break;
                default:
                    this.pos -= 1;
                    this.fail('invalid escape');
            }
            runStart = this.pos;
        }
    }
    hex4() {
        if (this.pos + 4 > this.text.length) {
            this.pos = this.text.length;
            this.fail('EOF while parsing a string');
        }
        let v = 0;
        for (let i = 0; i < 4; i++) {
            const d = parseHexDigit(this.text.charCodeAt(this.pos));
            if (d < 0)
                this.fail('invalid escape');
            v = v * 16 + d;
            this.pos += 1;
        }
        return v;
    }
    parseUnicodeEscape() {
        const first = this.hex4();
        if (first >= 0xdc00 && first <= 0xdfff)
            this.fail('lone leading surrogate in hex escape');
        if (first < 0xd800 || first > 0xdbff)
            return String.fromCharCode(first);
        if (this.text[this.pos] !== '\\' || this.text[this.pos + 1] !== 'u') {
            this.fail('unexpected end of hex escape');
        }
        this.pos += 2;
        const second = this.hex4();
        if (second < 0xdc00 || second > 0xdfff)
            this.fail('lone leading surrogate in hex escape');
        return String.fromCharCode(first, second);
    }
    parseNumber() {
        const start = this.pos;
        const negative = this.text[this.pos] === '-';
        if (negative)
            this.pos += 1;
        const intStart = this.pos;
        const first = this.text[this.pos];
        if (first === undefined)
            this.fail('EOF while parsing a value');
        if (first === '0') {
            this.pos += 1;
            const next = this.text[this.pos];
            if (next !== undefined && next >= '0' && next <= '9')
                this.fail('invalid number');
        }
        else if (first >= '1' && first <= '9') {
            while (isDigit(this.text[this.pos]))
                this.pos += 1;
        }
        else {
            this.fail('invalid number');
        }
        const intEnd = this.pos;
        let isFloat = false;
        if (this.text[this.pos] === '.') {
            isFloat = true;
            this.pos += 1;
            if (!isDigit(this.text[this.pos]))
                this.fail(this.pos >= this.text.length ? 'EOF while parsing a value' : 'invalid number');
            while (isDigit(this.text[this.pos]))
                this.pos += 1;
        }
        const e = this.text[this.pos];
        if (e === 'e' || e === 'E') {
            isFloat = true;
            this.pos += 1;
            const sign = this.text[this.pos];
            if (sign === '+' || sign === '-')
                this.pos += 1;
            if (!isDigit(this.text[this.pos]))
                this.fail(this.pos >= this.text.length ? 'EOF while parsing a value' : 'invalid number');
            while (isDigit(this.text[this.pos]))
                this.pos += 1;
        }
        const text = this.text.slice(start, this.pos);
        if (isFloat)
            return { kind: 'number', text, int: null };
        // More than 20 digits never fits 64 bits: a float to serde_json, and no BigInt to build.
        if (intEnd - intStart > 20)
            return { kind: 'number', text, int: null };
        const magnitude = BigInt(this.text.slice(intStart, intEnd));
        if (!negative)
            return { kind: 'number', text, int: magnitude <= U64_MAX ? magnitude : null };
        // serde_json: a negative integer is an i64 unless it is -0 or below i64::MIN (then a float).
        const ok = magnitude !== 0n && magnitude <= I64_MIN_MAGNITUDE;
        return { kind: 'number', text, int: ok ? -magnitude : null };
    }
}
function isDigit(c) {
    return c !== undefined && c >= '0' && c <= '9';
}
function parseHexDigit(c) {
    if (c >= 0x30 && c <= 0x39)
        return c - 0x30;
    if (c >= 0x41 && c <= 0x46)
        return c - 0x41 + 10;
    if (c >= 0x61 && c <= 0x66)
        return c - 0x61 + 10;
    return -1;
}
/** Parses one JSON document; throws `JsonSyntaxError`. */
export function parseJson(text) {
    return new Parser(text).parseDocument();
}
/**
 * Where the first JSON value of `text` (and the whitespace after it) ends, or null when it does
 * not parse. Only for diagnostics: the Rust SDK reads a proof's or genesis's JSON with
 * `serde_json::Deserializer::from_str` and never calls `end()`, so it ignores whatever follows
 * the first value; this verifier refuses it (see README, "Known differences").
 */
export function jsonPrefixEnd(text) {
    const p = new Parser(text);
    try {
        p.parsePrefix();
    }
    catch {
        return null;
    }
    return p.end();
}
/** A short name for a value's type, for error messages (`invalid type: string, expected u64`). */
export function describe(v) {
    switch (v.kind) {
        case 'null':
            return 'null';
        case 'bool':
            return `boolean \`${v.value}\``;
        case 'number':
            return v.int === null ? `floating point \`${v.text}\`` : `integer \`${v.int}\``;
        case 'string':
            return `string ${JSON.stringify(v.value)}`;
        case 'array':
            return 'sequence';
        case 'object':
            return 'map';
    }
}
