import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { treeBytes } from "../../../infra/backup/store";
import { certificateOf, request } from "../../../ops/status/http";
import { tailLines } from "../../../ops/status/local";
import { namedRows, type ServerFacts, statusCounts } from "../../../ops/status/probe";
import { CERT_MIN_REMAINING, evaluate, type StatusFacts } from "../../../ops/status/report";
import { adminUrl, stackConfig } from "../../../ops/status/target";

const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);
const ID = "c2".repeat(32);
const atlas = {
    schemaVersion: 1,
    environment: "dev",
    stack: "dev",
    runtime: "local",
    http: { url: "https://127.0.0.1:8443" },
    ws: { url: "wss://127.0.0.1:8443" },
    database: { name: "inner-universe", identity: ID },
    module: { sha256: SHA_A },
    server: { version: "1.2.0" },
    tls: { enabled: true, caCertPath: ".iu/state/dev/ca.pem" },
    deployer: { identity: "d".repeat(64) },
};
const server = (over: Partial<ServerFacts> = {}): ServerFacts => ({
    health: { url: "https://127.0.0.1:8443/v1/ping", status: 200 },
    version: { running: "1.2.0" },
    database: { identity: ID, owner: "d".repeat(64) },
    module: { sha256: SHA_A, programHash: "f".repeat(64) },
    rows: { counts: { status: "running", entity_count: 3 } },
    tls: {
        subject: "127.0.0.1",
        issuer: "Caddy Local Authority - ECC Intermediate",
        validFrom: "2026-12-03T05:56:03.000Z",
        validTo: "2026-12-03T17:56:03.000Z",
        daysLeft: 0,
        remainingFraction: 0.9,
        trusted: true,
    },
    ...over,
});
const local = {
    rootDir: "/x/.iu/state/dev/stdb",
    pidFile: "/x/.iu/state/dev/stdb.pid",
    pid: 4242,
    running: true,
    rootBytes: 12345,
    disk: { freeBytes: 5e10, totalBytes: 1e11, freePercent: 50 },
    logFile: "/x/.iu/state/dev/stdb.log",
};
const healthy = (over: Partial<StatusFacts> = {}): StatusFacts => ({
    stack: "dev",
    runtime: "local",
    atlasOutput: atlas,
    server: server(),
    local,
    last: { kind: "update", result: "succeeded", startTime: "t0", endTime: "t1" },
    ...over,
});

describe("evaluate: healthy only without problems, each problem naming what is wrong", () => {
    it("a healthy local stack reports every field and no problem", () => {
        const r = evaluate(healthy());
        expect(r.problems).toEqual([]);
        expect(r.healthy).toBe(true);
        expect(Object.keys(r.fields)).toEqual([
            "stack",
            "runtime",
            "lastUpdate",
            "endpoint",
            "server",
            "dataDir",
            "disk",
            "growth",
            "health",
            "version",
            "module",
            "database",
            "rows",
            "tls",
        ]);
        expect(r.fields.module).toEqual({ running: SHA_A, stack: SHA_A });
        expect(r.text).toContain("healthy");
    });

    it.each<[string, Partial<StatusFacts>, RegExp]>([
        [
            "a dead server process",
            { local: { ...local, running: false }, server: server({ health: { url: "https://127.0.0.1:8443/v1/ping", status: 502 } }) },
            /server: process 4242 from .*stdb\.pid is not running/,
        ],
        ["no pid file", { local: { ...local, pid: undefined, running: false } as never }, /server: no pid in/],
        [
            "health through the front fails",
            { server: server({ health: { url: "https://h/v1/ping", error: "connect ECONNREFUSED" } }) },
            /health: https:\/\/h\/v1\/ping unreachable \(connect ECONNREFUSED\)/,
        ],
        ["a module published by hand", { server: server({ module: { sha256: SHA_B } }) }, /module: the server runs bbbbbbbbbbbb… but the stack published aaaaaaaaaaaa…/],
        ["a database recreated outside the stack", { server: server({ database: { identity: "e".repeat(64) } }) }, /database: inner-universe is eeeeeeeeeeee… on the server/],
        ["another server version", { server: server({ version: { running: "1.3.0" } }) }, /version: the server runs 1\.3\.0, the stack says 1\.2\.0/],
        [
            "a certificate whose renewal is failing",
            {
                server: server({
                    tls: { subject: "db", issuer: "R3", validFrom: "a", validTo: "2027-01-10", daysLeft: 13, remainingFraction: CERT_MIN_REMAINING - 0.02, trusted: true },
                }),
            },
            /tls: the certificate of db expires 2027-01-10 with 15% of its lifetime left: renewal is failing/,
        ],
        [
            "an expired certificate",
            {
                server: server({
                    tls: { subject: "db", issuer: "R3", validFrom: "a", validTo: "x", daysLeft: -2, remainingFraction: 0, trusted: false, error: "CERT_HAS_EXPIRED" },
                }),
            },
            /has expired[\s\S]*not trusted \(CERT_HAS_EXPIRED\)/,
        ],
        ["no TLS at all on an https endpoint", { server: server({ tls: { error: "connect ECONNREFUSED" } }) }, /tls: connect ECONNREFUSED/],
        ["a nearly full disk", { local: { ...local, disk: { freeBytes: 1, totalBytes: 100, freePercent: 4 } } }, /disk: only 4% free/],
        ["no atlas output", { atlasOutput: undefined }, /atlas output: missing or invalid \(run up\)/],
        ["a failed last update", { last: { kind: "update", result: "failed", startTime: "t" } }, /last update: update failed/],
        [
            "an unreadable running module on a live server",
            { server: server({ module: { error: "st_module query answered 401" } }) },
            /module: cannot read the running module \(st_module query answered 401\)/,
        ],
    ])("%s", (_what, over, problem) => {
        const r = evaluate(healthy(over));
        expect(r.healthy).toBe(false);
        expect(r.problems.join("\n")).toMatch(problem);
        expect(r.text).toContain("UNHEALTHY");
    });

    it("prints the log lines it was given after the verdict", () => {
        const r = evaluate(healthy({ logs: ["line 1", "line 2"] }));
        expect(r.text.split("\n").slice(-3)).toEqual(["last 2 log lines:", "  line 1", "  line 2"]);
    });
});

describe("SQL answers (recorded from spacetimedb-standalone 1.2.0)", () => {
    // POST /v1/database/<db>/sql "SELECT * FROM system_status" on the module fixture, trimmed to the shape.
    const recorded = JSON.stringify([
        {
            schema: {
                elements: [
                    "id",
                    "status",
                    "version",
                    "uptime_seconds",
                    "entity_count",
                    "relation_count",
                    "event_count",
                    "state_version_count",
                    "connected_clients",
                    "updated_at",
                ].map((n) => ({ name: { some: n }, algebraic_type: {} })),
            },
            rows: [[0, "running", "0.1.0", 0, 0, 0, 1, 0, 0, [1796276125760374]]],
            total_duration_micros: 280,
            stats: { rows_inserted: 0, rows_deleted: 0, rows_updated: 0 },
        },
    ]);

    it("names each column and keeps the counters", () => {
        const [row] = namedRows(recorded);
        expect(row).toMatchObject({ status: "running", entity_count: 0, event_count: 1 });
        expect(statusCounts(row)).toEqual({
            id: 0,
            status: "running",
            version: "0.1.0",
            uptime_seconds: 0,
            entity_count: 0,
            relation_count: 0,
            event_count: 1,
            state_version_count: 0,
            connected_clients: 0,
        });
    });

    it("refuses an answer without rows", () => {
        expect(() => namedRows(JSON.stringify([{ schema: {} }]))).toThrow(/without rows/);
    });
});

describe("local facts", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-status-"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("counts a hard-linked file once (snapshots hard-link commitlog segments)", () => {
        fs.mkdirSync(path.join(dir, "tree", "snap"), { recursive: true });
        fs.writeFileSync(path.join(dir, "tree", "seg"), Buffer.alloc(1000));
        fs.linkSync(path.join(dir, "tree", "seg"), path.join(dir, "tree", "snap", "seg"));
        fs.writeFileSync(path.join(dir, "tree", "other"), Buffer.alloc(24));
        expect(treeBytes(path.join(dir, "tree"))).toBe(1024);
    });

    it("reads the last lines of a log, also one longer than its read window", () => {
        const log = path.join(dir, "server.log");
        fs.writeFileSync(log, Array.from({ length: 20_000 }, (_, i) => `line ${i}`).join("\n") + "\n");
        expect(tailLines(log, 3)).toEqual(["line 19997", "line 19998", "line 19999"]);
        expect(tailLines(log, 10_000)).toHaveLength(10_000);
        expect(tailLines(log, 10_000)[0]).toBe("line 10000");
        expect(tailLines(path.join(dir, "missing.log"), 5)).toEqual([]);
        fs.writeFileSync(path.join(dir, "empty.log"), "");
        expect(tailLines(path.join(dir, "empty.log"), 5)).toEqual([]);
    });
});

describe("network primitives against node stand-ins", () => {
    it("request sends method, token and body, and returns status and body", async () => {
        const srv = http.createServer((req, res) => {
            let body = "";
            req.on("data", (d) => (body += d));
            req.on("end", () => res.writeHead(201).end(JSON.stringify({ method: req.method, auth: req.headers.authorization, type: req.headers["content-type"], body })));
        });
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
        try {
            const { port } = srv.address() as AddressInfo;
            const r = await request(`http://127.0.0.1:${port}/x`, { method: "POST", token: "t0k", body: "SELECT 1" });
            expect(r.status).toBe(201);
            expect(JSON.parse(r.body)).toEqual({ method: "POST", auth: "Bearer t0k", type: "text/plain", body: "SELECT 1" });
        } finally {
            srv.close();
        }
    });

    it("certificateOf reads expiry and trust of a TLS endpoint with a private CA (openssl-made, node:tls stand-in)", async () => {
        if (spawnSync("openssl", ["version"]).status !== 0) throw new Error("openssl is not installed: run `bash toolchain/setup-tools.sh` (Debian package openssl)");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-cert-"));
        const sh = (args: string[]) => {
            const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
            if (r.status !== 0) throw new Error(r.stderr);
        };
        sh([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "10",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ]);
        const cert = fs.readFileSync(path.join(dir, "cert.pem"));
        const srv = tls.createServer({ key: fs.readFileSync(path.join(dir, "key.pem")), cert }, (s) => s.end());
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
        try {
            const { port } = srv.address() as AddressInfo;
            const trusted = await certificateOf(`https://localhost:${port}`, cert);
            expect(trusted).toMatchObject({ subject: "localhost", trusted: true });
            expect(trusted.daysLeft).toBeGreaterThanOrEqual(9);
            expect(trusted.daysLeft).toBeLessThanOrEqual(10);
            const untrusted = await certificateOf(`https://localhost:${port}`);
            expect(untrusted.trusted).toBe(false);
            expect(untrusted.error).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
            // A fresh certificate has (nearly) all its lifetime ahead: no problem, whatever its length.
            expect(trusted.remainingFraction).toBeGreaterThan(0.95);
            expect(evaluate(healthy({ server: server({ tls: trusted }) })).problems).toEqual([]);
            // The same certificate seen 9.5 days later: a twentieth left, renewal failing.
            const late = await certificateOf(`https://localhost:${port}`, cert, new Date(Date.now() + 9.5 * 86_400_000));
            expect(evaluate(healthy({ server: server({ tls: late }) })).problems.join()).toMatch(/% of its lifetime left: renewal is failing/);
        } finally {
            srv.close();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("status targets per runtime (the committed stack files)", () => {
    const ROOT = path.resolve(__dirname, "../../..");
    it.each([
        ["dev", "local", "http://127.0.0.1:3000"],
        ["test", "docker", undefined],
        ["prod", "aws", "https://db.inner-universe.example"],
    ] as const)("%s (%s) talks to %s", (stack, runtime, expected) => {
        const cfg = stackConfig(ROOT, stack);
        expect(cfg.runtime).toBe(runtime);
        const url = adminUrl(cfg, "https://db.inner-universe.example/");
        // docker publishes the container's port on loopback at spacetimedb.port.
        expect(url).toBe(expected ?? `http://127.0.0.1:${cfg.spacetimedb.port}`);
    });

    it("a remote server is reached through its own URL, and a wildcard listen address through loopback", () => {
        expect(adminUrl({ runtime: "remote", spacetimedb: { address: "127.0.0.1", port: 3000 } } as never, "https://maincloud.example/")).toBe("https://maincloud.example");
        expect(adminUrl({ runtime: "local", spacetimedb: { address: "0.0.0.0", port: 3100 } } as never, "https://x")).toBe("http://127.0.0.1:3100");
        expect(adminUrl({ runtime: "local", spacetimedb: { address: "::1", port: 3100 } } as never, "https://x")).toBe("http://[::1]:3100");
    });
});
