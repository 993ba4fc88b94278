import { describe, expect, it } from "vitest";
import { chooseBase, coverageGap, offsetAtTime, snapshotsAfter } from "../../../ops/backup/pitrPlan";

const idx = [
    { min: 0, n: 1, at_ms: 1000 },
    { min: 1, n: 1, at_ms: 1000 },
    { min: 2, n: 1, at_ms: 2500 },
    { min: 3, n: 2, at_ms: 4000 },
];

describe("offsetAtTime", () => {
    it.each([
        [999, undefined],
        [1000, 1],
        [2499, 1],
        [2500, 2],
        [3999, 2],
        [4000, 4],
        [9999, 4],
    ])("at %i ms → offset %s", (t, want) => {
        expect(offsetAtTime(idx, t)).toBe(want);
    });
});

describe("chooseBase", () => {
    const backups = [
        { id: "a", end: 3 },
        { id: "b", end: 10 },
        { id: "c", end: 25 },
    ];
    it.each([
        [1, undefined],
        [2, "a"],
        [9, "b"],
        [24, "c"],
        [100, "c"],
    ])("point %i → base %s", (n, want) => {
        expect(chooseBase(backups, n)?.id).toBe(want);
    });
});

describe("coverageGap", () => {
    it.each([
        [10, { first: 0, end: 50 }, 30, undefined],
        [10, { first: 10, end: 50 }, 30, undefined],
        [31, { first: 40, end: 50 }, 30, undefined],
        [10, { first: 15, end: 50 }, 30, "offsets 10..=14"],
        [10, { first: 0, end: 20 }, 30, "offsets 20..=30"],
        [10, undefined, 30, "offsets 10..=30"],
    ] as const)("base end %i, archive %o, point %i → %s", (baseEnd, archive, n, want) => {
        const gap = coverageGap(baseEnd, archive, n);
        if (want === undefined) expect(gap).toBeUndefined();
        else expect(gap).toContain(want);
    });
});

describe("snapshotsAfter", () => {
    it("names the snapshots past the point and nothing else", () => {
        const names = ["00000000000000000000.snapshot_dir", "00000000000001000000.snapshot_dir", "00000000000002000000.snapshot_dir", "lock", "x.snapshot_dir"];
        expect(snapshotsAfter(names, 1_000_000)).toEqual(["00000000000002000000.snapshot_dir"]);
        expect(snapshotsAfter(names, 999_999)).toEqual(["00000000000001000000.snapshot_dir", "00000000000002000000.snapshot_dir"]);
    });
});
