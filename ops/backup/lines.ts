import { createHash } from "node:crypto";
import * as fs from "node:fs";

/**
 * A file's lines, read in fixed chunks with a byte limit per line: a line longer than the limit
 * is refused as soon as the limit is passed, without reading the rest of it or ever holding it as
 * one string (an export line of 100 MB costs one chunk beyond the limit, not 100 MB). Also hashes
 * every byte read, so two reads of one file can be compared.
 */
export class LineTooLong extends Error {
    constructor(
        readonly line: number,
        readonly limit: number,
    ) {
        super(`line ${line} is longer than ${limit} bytes`);
    }
}

export class NotUtf8 extends Error {
    constructor(readonly line: number) {
        super(`line ${line} is not UTF-8`);
    }
}

export interface Line {
    /** 1-based. */
    n: number;
    text: string;
    /** False for a last line the file ends in without a newline. */
    newline: boolean;
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

export class LineReader {
    /** Bytes read from the file so far. */
    bytesRead = 0;
    private readonly hash = createHash("sha256");
    private readonly decoder = new TextDecoder("utf-8", { fatal: true });

    constructor(
        readonly file: string,
        readonly maxLineBytes: number,
        private readonly chunkBytes = CHUNK,
    ) {}

    /** sha256 of the bytes read so far (of the whole file once `lines()` has run to its end). */
    sha256(): string {
        return this.hash.copy().digest("hex");
    }

    *lines(): Generator<Line> {
        const fd = fs.openSync(this.file, "r");
        const buf = Buffer.alloc(this.chunkBytes);
        let pieces: Buffer[] = [];
        let size = 0;
        let n = 1;
        const text = (): string => {
            try {
                return this.decoder.decode(Buffer.concat(pieces, size));
            } catch {
                throw new NotUtf8(n);
            }
        };
        try {
            for (;;) {
                const got = fs.readSync(fd, buf, 0, buf.length, null);
                if (got === 0) break;
                this.bytesRead += got;
                this.hash.update(buf.subarray(0, got));
                let start = 0;
                for (let nl = buf.indexOf(NL, start); nl !== -1 && nl < got; nl = buf.indexOf(NL, start)) {
                    if (size + nl - start > this.maxLineBytes) throw new LineTooLong(n, this.maxLineBytes);
                    pieces.push(Buffer.from(buf.subarray(start, nl)));
                    size += nl - start;
                    yield { n, text: text(), newline: true };
                    pieces = [];
                    size = 0;
                    n++;
                    start = nl + 1;
                }
                // The rest of the chunk belongs to a line that goes on: refuse it as soon as it is too long.
                if (size + got - start > this.maxLineBytes) throw new LineTooLong(n, this.maxLineBytes);
                pieces.push(Buffer.from(buf.subarray(start, got)));
                size += got - start;
            }
            if (size > 0) yield { n, text: text(), newline: false };
        } finally {
            fs.closeSync(fd);
        }
    }
}
