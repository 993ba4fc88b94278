// Minimal BSATN reader (SpacetimeDB's binary SATS encoding), enough to decode
// a `RawModuleDef` written by a module's `__describe_module__`.
//
// Encoding (crates/sats/src/bsatn at v1.2.0): little-endian integers; bool as
// one byte; strings and arrays as a u32 length prefix followed by the bytes /
// elements; products as their fields concatenated; sums as a u8 tag followed
// by the variant's payload. `Option<T>` is the sum `some(T) = 0 | none = 1`.
//
// Erasable TypeScript, Node built-ins only (may be loaded by a dynamic provider).

export class BsatnError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "BsatnError";
    }
}

export class BsatnReader {
    private readonly view: DataView;
    private readonly bytes: Uint8Array;
    private pos: number;

    constructor(bytes: Uint8Array) {
        this.bytes = bytes;
        this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.pos = 0;
    }

    get offset(): number {
        return this.pos;
    }

    get remaining(): number {
        return this.bytes.byteLength - this.pos;
    }

    private need(n: number, what: string): void {
        if (this.pos + n > this.bytes.byteLength) {
            throw new BsatnError(`unexpected end of input reading ${what} at offset ${this.pos} (need ${n}, have ${this.remaining})`);
        }
    }

    u8(): number {
        this.need(1, "u8");
        const v = this.view.getUint8(this.pos);
        this.pos += 1;
        return v;
    }

    bool(): boolean {
        const v = this.u8();
        if (v > 1) throw new BsatnError(`invalid bool byte ${v} at offset ${this.pos - 1}`);
        return v === 1;
    }

    u16(): number {
        this.need(2, "u16");
        const v = this.view.getUint16(this.pos, true);
        this.pos += 2;
        return v;
    }

    u32(): number {
        this.need(4, "u32");
        const v = this.view.getUint32(this.pos, true);
        this.pos += 4;
        return v;
    }

    /** Signed 128-bit little-endian integer, as a decimal string (JSON-safe). */
    i128(): string {
        this.need(16, "i128");
        const lo = this.view.getBigUint64(this.pos, true);
        const hi = this.view.getBigInt64(this.pos + 8, true);
        this.pos += 16;
        return ((hi << 64n) | lo).toString();
    }

    /** Sum tag. */
    tag(): number {
        return this.u8();
    }

    bytesOf(len: number): Uint8Array {
        this.need(len, "bytes");
        const out = this.bytes.subarray(this.pos, this.pos + len);
        this.pos += len;
        return out;
    }

    string(): string {
        const len = this.u32();
        const raw = this.bytesOf(len);
        return new TextDecoder("utf-8", { fatal: true }).decode(raw);
    }

    array<T>(elem: (r: BsatnReader) => T): T[] {
        const len = this.u32();
        // Each element takes at least one byte except for unit-like ones; guard only against absurd lengths.
        if (len > this.bytes.byteLength * 8 + 1024) throw new BsatnError(`implausible array length ${len} at offset ${this.pos - 4}`);
        const out: T[] = [];
        for (let i = 0; i < len; i++) out.push(elem(this));
        return out;
    }

    option<T>(inner: (r: BsatnReader) => T): T | undefined {
        const at = this.pos;
        const t = this.tag();
        if (t === 0) return inner(this);
        if (t === 1) return undefined;
        throw new BsatnError(`invalid Option tag ${t} at offset ${at}`);
    }

    /** Fails unless the whole input was consumed. */
    end(): void {
        if (this.remaining !== 0) throw new BsatnError(`${this.remaining} trailing bytes after offset ${this.pos}`);
    }
}
