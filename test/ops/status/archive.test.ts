import { describe, expect, it } from "vitest";
import { type ArchiveFacts, archiveProblems } from "../../../ops/status/archive";

const base: ArchiveFacts = { dir: "/s/archive/dev", pidFile: "/s/archive/dev.pid", running: true, replicas: [] };
const lag = (secondsBehind: number | null, commitsBehind = 3) => ({
    ...base,
    replicas: [{ replica: "1", liveEnd: 10, archivedEnd: 10 - commitsBehind, commitsBehind, secondsBehind }],
});

describe("archiveProblems", () => {
    it.each([
        ["running, caught up", lag(0, 0), []],
        ["a few commits behind, within the bound", lag(0.4), []],
        ["at the bound", lag(10), []],
        ["behind too long", lag(12.5), ["12.5 s (3 commits) behind"]],
        ["never caught up", lag(null), ["never caught up"]],
        ["archiver down", { ...base, running: false }, ["archiver is not running"]],
        ["unreadable live log", { ...base, replicas: [{ replica: "1", archivedEnd: 0, secondsBehind: null, error: "boom" }] }, ["replica 1: boom"]],
    ] as const)("%s", (_name, facts, want) => {
        const got = archiveProblems(facts as ArchiveFacts);
        expect(got).toHaveLength(want.length);
        for (const [i, w] of want.entries()) expect(got[i]).toContain(w);
    });
});
