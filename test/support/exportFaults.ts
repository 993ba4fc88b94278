import * as fs from "node:fs";

/**
 * Hostile variants of a good export file, shared by the unit tests (a synthetic export) and the
 * e2e (a real one): each case writes its file from the good file's lines and says on which line
 * `backup import` must refuse it, and with what. The good export needs at least two entity rows.
 */
export interface ExportFault {
    name: string;
    write(lines: string[], file: string): void;
    /** The line the refusal names. */
    line(lines: string[]): number;
    message: RegExp;
}

type Row = { table: string; row: Record<string, unknown> };
const parse = (l: string) => JSON.parse(l) as Row;
const firstOf = (lines: string[], table: string) => lines.findIndex((l, i) => i > 0 && parse(l).table === table);
/** The good file's lines with line `i` (0-based) replaced by `row`. */
const withRow = (lines: string[], i: number, edit: (r: Row["row"]) => void) => {
    const r = parse(lines[i]!);
    edit(r.row);
    return lines.map((l, j) => (j === i ? JSON.stringify(r) : l));
};
const put = (file: string, lines: string[], end = "\n") => fs.writeFileSync(file, lines.join("\n") + end);
const middleEntity = (lines: string[]) => firstOf(lines, "entity") + 1;

export const MB100 = 100 * 1024 * 1024;

export const EXPORT_FAULTS: ExportFault[] = [
    {
        name: "truncated: the last line missing",
        write: (lines, file) => put(file, lines.slice(0, -1)),
        line: (lines) => lines.length,
        message: /end of file, but the header \(line 1\) announces more rows \(.*\): the file is truncated \(lines missing\)/,
    },
    {
        name: "truncated: the last line cut mid-JSON",
        write: (lines, file) => put(file, [...lines.slice(0, -1), lines.at(-1)!.slice(0, Math.floor(lines.at(-1)!.length / 2))], ""),
        line: (lines) => lines.length,
        message: /the file's last line is cut off mid-line \(not complete JSON\): the file is truncated/,
    },
    {
        name: "a malformed line in the middle",
        write: (lines, file) =>
            put(
                file,
                lines.map((l, i) => (i === middleEntity(lines) ? l.replace(/,"row":\{/, ',"row":{,') : l)),
            ),
        line: (lines) => middleEntity(lines) + 1,
        message: /not JSON \(.*\)\. Fix: the line is damaged/,
    },
    {
        name: "an id that is a string",
        write: (lines, file) =>
            put(
                file,
                withRow(lines, middleEntity(lines), (r) => (r.id = String(r.id))),
            ),
        line: (lines) => middleEntity(lines) + 1,
        message: /wrong entity row: entity\.id: expected a whole number \(got "\d+"\)/,
    },
    {
        name: "a timestamp that is not an integer",
        write: (lines, file) =>
            put(
                file,
                withRow(lines, middleEntity(lines), (r) => (r.created_at = (r.created_at as number) + 0.5)),
            ),
        line: (lines) => middleEntity(lines) + 1,
        message: /wrong entity row: entity\.created_at: expected a whole number of microseconds since the Unix epoch \(got \d+\.5\)/,
    },
    {
        name: "an identity that is not 64 hex digits",
        write: (lines, file) =>
            put(
                file,
                withRow(lines, middleEntity(lines), (r) => (r.owner = `${String(r.owner).slice(0, 62)}zz`)),
            ),
        line: (lines) => middleEntity(lines) + 1,
        message: /wrong entity row: entity\.owner: expected 64 hex digits \(an identity\)/,
    },
    {
        name: "a duplicate primary key",
        write: (lines, file) =>
            put(
                file,
                lines.flatMap((l, i) => (i === middleEntity(lines) ? [l, l] : [l])),
            ),
        line: (lines) => middleEntity(lines) + 2,
        message: /duplicate entity id \d+ \(also on line \d+\)/,
    },
    {
        name: "a 100 MB line",
        write: (lines, file) => {
            const at = middleEntity(lines);
            const fd = fs.openSync(file, "w");
            fs.writeSync(fd, lines.slice(0, at).join("\n") + "\n");
            const chunk = Buffer.alloc(1024 * 1024, "a");
            fs.writeSync(fd, '{"table":"entity","row":{"data":"');
            for (let i = 0; i < MB100 / chunk.length; i++) fs.writeSync(fd, chunk);
            fs.writeSync(fd, '"}}\n' + lines.slice(at).join("\n") + "\n");
            fs.closeSync(fd);
        },
        line: (lines) => middleEntity(lines) + 1,
        message: /line is longer than 1048576 bytes \(the per-line limit/,
    },
    {
        name: "another database's rows",
        write: (lines, file) => {
            const h = JSON.parse(lines[0]!) as Record<string, unknown>;
            put(file, [JSON.stringify({ ...h, stack: "prod", database: "someone-elses" }), ...lines.slice(1)]);
        },
        line: () => 1,
        message:
            /the export is of stack prod \(database someone-elses\), not of the target, stack .*\. Fix: to load another database's rows into stack .*, add --from-other-database/,
    },
];
