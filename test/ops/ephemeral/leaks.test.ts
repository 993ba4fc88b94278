import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backendFiles, findLeaks, formatLeaks, type LeakProbes, type LeakTarget, portListening, readPid, realProbes } from "../../../ops/ephemeral/leaks";

const TARGET: LeakTarget = {
    stack: "eph-a-1-aaaa",
    stackDir: "/tmp/s/eph-a-1-aaaa",
    pids: [
        { pid: 11, name: "spacetimedb" },
        { pid: 12, name: "caddy" },
    ],
    ports: [4100, 4101],
    stackFile: "/w/Pulumi.eph-a-1-aaaa.yaml",
    dockerNamePrefix: "inner-universe-eph-a-1-aaaa",
};

function probes(over: Partial<LeakProbes> = {}): LeakProbes {
    return {
        cmdline: () => undefined,
        processesMentioning: () => [],
        listening: async () => false,
        exists: () => false,
        listStacks: async () => ["dev", "prod"],
        backendFiles: () => [],
        dockerObjects: async () => ({ containers: [], volumes: [] }),
        ...over,
    };
}

describe("findLeaks", () => {
    it("a clean machine has no leaks", async () => {
        const report = await findLeaks(TARGET, probes());
        expect(report).toEqual({ leaks: [], notes: [] });
        expect(formatLeaks(report)).toBe("no leaks");
    });

    it.each<[string, Partial<LeakProbes>, string, RegExp]>([
        ["a recorded server pid still alive", { cmdline: (pid) => (pid === 11 ? "spacetimedb-standalone start" : undefined) }, "process", /spacetimedb pid 11/],
        [
            "a process using the state dir without a pid file",
            { processesMentioning: () => [{ pid: 99, cmdline: "caddy run --config /tmp/s/eph-a-1-aaaa/caddy/Caddyfile" }] },
            "process",
            /pid 99/,
        ],
        ["a listener on a stack port", { listening: async (p) => p === 4101 }, "port", /4101/],
        ["the state dir", { exists: (f) => f === TARGET.stackDir }, "state-dir", /eph-a-1-aaaa still exists/],
        ["the stack file", { exists: (f) => f === TARGET.stackFile }, "stack-file", /Pulumi\.eph-a-1-aaaa\.yaml/],
        ["the stack in the backend", { listStacks: async () => ["dev", "eph-a-1-aaaa"] }, "backend", /still in the backend/],
        ["backend backup files", { backendFiles: () => ["/b/.pulumi/backups/inner-universe/eph-a-1-aaaa"] }, "backend-files", /backups/],
        ["a container", { dockerObjects: async () => ({ containers: ["inner-universe-eph-a-1-aaaa"], volumes: [] }) }, "container", /container/],
        ["a volume", { dockerObjects: async () => ({ containers: [], volumes: ["inner-universe-eph-a-1-aaaa-stdb"] }) }, "volume", /volume/],
    ])("reports %s", async (_what, over, kind, detail) => {
        const { leaks } = await findLeaks(TARGET, probes(over));
        expect(leaks).toEqual([{ kind, detail: expect.stringMatching(detail) }]);
    });

    it("a recorded pid now running something else is pid reuse, not a leak", async () => {
        const { leaks } = await findLeaks(TARGET, probes({ cmdline: () => "bash -c sleep 100" }));
        expect(leaks).toEqual([]);
    });

    it("one process is reported once even when both probes see it", async () => {
        const { leaks } = await findLeaks(
            TARGET,
            probes({
                cmdline: (pid) => (pid === 11 ? "spacetimedb-standalone --data-dir /tmp/s/eph-a-1-aaaa/stdb" : undefined),
                processesMentioning: () => [{ pid: 11, cmdline: "spacetimedb-standalone --data-dir /tmp/s/eph-a-1-aaaa/stdb" }],
            }),
        );
        expect(leaks).toHaveLength(1);
    });

    it("unreachable Docker and non-file backends are notes, not leaks", async () => {
        const report = await findLeaks(TARGET, probes({ dockerObjects: async () => undefined, backendFiles: () => undefined }));
        expect(report.leaks).toEqual([]);
        expect(report.notes).toEqual([expect.stringMatching(/non-file backend/), expect.stringMatching(/docker not reachable/)]);
    });
});

describe("real probes", () => {
    const dirs: string[] = [];
    const tmp = () => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), "iu-leaks-"));
        dirs.push(d);
        return d;
    };
    afterEach(() => {
        for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });

    it("portListening sees a real listener and its absence", async () => {
        const server = net.createServer();
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const { port } = server.address() as net.AddressInfo;
        expect(await portListening(port)).toBe(true);
        await new Promise((r) => server.close(r));
        expect(await portListening(port)).toBe(false);
    });

    it("processesMentioning finds this test's own child by a unique argument", async () => {
        const marker = `iu-leak-marker-${process.pid}-${Date.now()}`;
        const { spawn } = await import("node:child_process");
        const sh = spawn("bash", ["-c", `sleep 30; : ${marker}`]);
        try {
            await new Promise((r) => setTimeout(r, 100));
            const found = realProbes(async () => [], "s3://x").processesMentioning(marker);
            expect(found.map((p) => p.pid)).toContain(sh.pid);
        } finally {
            sh.kill();
        }
    });

    it("backendFiles lists what `stack rm` leaves in a file backend, and nothing of other stacks", () => {
        const b = tmp();
        const keep = [".pulumi/stacks/inner-universe/dev.json", ".pulumi/stacks/inner-universe/eph-a-1-aaaab.json"];
        const residue = [".pulumi/stacks/inner-universe/eph-a-1-aaaa.json.bak", ".pulumi/backups/inner-universe/eph-a-1-aaaa/eph-a-1-aaaa.1.json"];
        for (const f of [...keep, ...residue]) {
            fs.mkdirSync(path.dirname(path.join(b, f)), { recursive: true });
            fs.writeFileSync(path.join(b, f), "{}");
        }
        expect(backendFiles(`file://${b}`, "eph-a-1-aaaa")!.sort()).toEqual(
            [path.join(b, ".pulumi/backups/inner-universe/eph-a-1-aaaa"), path.join(b, ".pulumi/stacks/inner-universe/eph-a-1-aaaa.json.bak")].sort(),
        );
        expect(backendFiles("s3://bucket/prefix", "eph-a-1-aaaa")).toBeUndefined();
    });

    it.each([
        ["12345\n", 12345],
        ["", undefined],
        ["12a", undefined],
    ])("readPid(%j) = %s", (text, pid) => {
        const f = path.join(tmp(), "x.pid");
        fs.writeFileSync(f, text);
        expect(readPid(f)).toBe(pid);
    });

    it("readPid of a missing file is no pid", () => {
        expect(readPid("/nonexistent/x.pid")).toBeUndefined();
    });
});
