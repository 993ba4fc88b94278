import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { forecast, recordUsage } from "../../../ops/status/growth";
import { localFacts } from "../../../ops/status/local";
import { evaluate } from "../../../ops/status/report";

const H = 3_600_000;
const D = 24 * H;
const GB = 1_000_000_000;

describe("days until the data filesystem is full", () => {
    it.each([
        ["1 GB/day with 10 GB free", [0, 1, 2].map((d) => ({ at: d * D, usedBytes: (5 + d) * GB })), 17 * GB, { daysUntilFull: 10, bytesPerDay: GB }],
        ["flat usage: no date", [0, 1].map((d) => ({ at: d * D, usedBytes: 5 * GB })), 10 * GB, { daysUntilFull: null, bytesPerDay: 0 }],
        ["shrinking (a restore): no date", [0, 1].map((d) => ({ at: d * D, usedBytes: (5 - d) * GB })), 10 * GB, { daysUntilFull: null }],
        ["already full", [0, 1].map((d) => ({ at: d * D, usedBytes: (9 + d) * GB })), 10 * GB, { daysUntilFull: 0 }],
        ["noisy samples: the least-squares rate", [0, 1, 2, 3].map((d) => ({ at: d * D, usedBytes: d * GB + (d % 2 ? 1e8 : -1e8) })), 23 * GB, { bytesPerDay: 1.04e9 }],
    ])("%s", (_what, samples, capacity, expected) => {
        expect(forecast(samples, capacity)).toMatchObject(expected);
    });

    it("needs two samples an hour apart", () => {
        expect(forecast([{ at: 0, usedBytes: 1 }], 10)).toBeUndefined();
        expect(
            forecast(
                [
                    { at: 0, usedBytes: 1 },
                    { at: H - 1, usedBytes: 2 },
                ],
                10,
            ),
        ).toBeUndefined();
        expect(
            forecast(
                [
                    { at: 0, usedBytes: 1 },
                    { at: H, usedBytes: 2 },
                ],
                10,
            ),
        ).toBeDefined();
    });

    it("status records one sample per run beside the root (0600), skips a torn line, keeps 30 days", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-growth-"));
        const file = path.join(dir, "stdb.usage");
        recordUsage(file, { at: 0, usedBytes: 1 });
        fs.appendFileSync(file, '{"at": 5, "usedB');
        const kept = recordUsage(file, { at: 31 * D, usedBytes: 3 });
        expect(kept).toEqual([{ at: 31 * D, usedBytes: 3 }]);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        fs.rmSync(dir, { recursive: true });
    });

    it("a root growing fast is a problem in status, named with the rate", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-growth-"));
        const root = path.join(dir, "stdb");
        fs.mkdirSync(path.join(root, "data"), { recursive: true });
        const free = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
        // A history in which the root grew by half the free space in a day: full in about two days.
        fs.writeFileSync(`${root}.usage`, `${JSON.stringify({ at: Date.now() - D, usedBytes: 0 })}\n`);
        fs.writeFileSync(path.join(root, "data", "x"), "x".repeat(1000));
        const facts = localFacts(root);
        expect(facts.growth?.samples).toBe(2);
        const grown = { ...facts, growth: { ...facts.growth!, bytesPerDay: free / 2, daysUntilFull: 2 } };
        const report = evaluate({ stack: "dev", runtime: "local", local: grown } as Parameters<typeof evaluate>[0]);
        expect(report.problems).toContain(`disk: full in 2 days at ${free / 2} bytes/day (the commitlog is never pruned): grow the volume`);
        expect(report.fields.growth).toMatchObject({ daysUntilFull: 2 });
        fs.rmSync(dir, { recursive: true });
    });
});

describe("recording on a full disk", () => {
    it("keeps the report going: the sample is returned, not kept", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-growth-ro-"));
        const file = path.join(dir, "missing-dir", "stdb.usage");
        expect(recordUsage(file, { at: 1, usedBytes: 2 })).toEqual([{ at: 1, usedBytes: 2 }]);
        expect(fs.existsSync(file)).toBe(false);
        fs.rmSync(dir, { recursive: true });
    });
});
