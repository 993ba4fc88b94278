import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AtlasOutput, atlasOutputSchema } from "../../infra/contract/atlas";
import { isolatedDevConfig, makeCheckout } from "../../ops/checkout";
import { alive, freePort } from "../../ops/ports";
import { pulumi, run, stackOutputs } from "../../ops/pulumi";
import { CERT_MIN_REMAINING } from "../../ops/status/report";
import { request, sqlRows } from "../support/http";

/**
 * `status` on a real dev stack (isolated checkout, own backend and ports; never this repo's own
 * stack): healthy first, then after a module published by hand past the stack, then after the
 * server is killed with SIGKILL. `bash scripts/dev.sh status` is the command a user runs.
 */
const STACK = "dev";
const DB = "inner-universe";
let tmp: string;
let checkout: string;
let stateDir: string;
let env: Record<string, string>;
let serverUrl: string;
let atlas: AtlasOutput;
let token: string;

const echo = (s: string) => process.stderr.write(s);
const status = async (...args: string[]) => {
    const r = await run("bash", ["scripts/dev.sh", "status", ...args], { cwd: checkout, env });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
};
const statusJson = async () => {
    const r = await status("--json");
    try {
        return { code: r.code, report: JSON.parse(r.stdout) as Record<string, any> };
    } catch {
        throw new Error(`status --json printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
};

/** A wasm custom section (id 0): valid anywhere after the header, ignored by the module def, so the server accepts it as an update. */
function withCustomSection(wasm: Buffer, name: string, payload: Buffer): Buffer {
    const leb = (n: number) => {
        const out: number[] = [];
        do {
            let b = n & 0x7f;
            n >>>= 7;
            if (n) b |= 0x80;
            out.push(b);
        } while (n);
        return Buffer.from(out);
    };
    const body = Buffer.concat([leb(name.length), Buffer.from(name), payload]);
    return Buffer.concat([wasm, Buffer.from([0]), leb(body.length), body]);
}

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-status-"));
    stateDir = path.join(tmp, "state");
    const serverPort = await freePort();
    const tlsPort = await freePort();
    serverUrl = `http://127.0.0.1:${serverPort}`;
    checkout = makeCheckout(path.join(tmp, "checkout"), { devConfig: isolatedDevConfig({ stateDir, serverPort, tlsPort }) });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-status-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
    const up = await run("bash", ["scripts/dev.sh", "up"], { cwd: checkout, env, echo });
    if (up.code !== 0) throw new Error(`dev.sh up failed (${up.code})`);
    const outputs = await stackOutputs(STACK, { cwd: checkout, env, showSecrets: true });
    atlas = atlasOutputSchema.parse(outputs.atlas);
    token = outputs.deployerToken as string;
});

afterAll(async () => {
    try {
        if (checkout) await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe("status on a real dev stack", () => {
    it("healthy: exits 0 and reports every field with the values the stack and the server agree on", async () => {
        const { code, report } = await statusJson();
        expect(report.problems).toEqual([]);
        expect(code).toBe(0);
        expect(report).toMatchObject({
            healthy: true,
            stack: STACK,
            runtime: "local",
            endpoint: { http: atlas.http.url, database: DB },
            server: { running: true },
            health: { url: `${atlas.http.url}/v1/ping`, status: 200 },
            version: { running: "1.2.0", stack: "1.2.0" },
            module: { running: atlas.module.sha256, stack: atlas.module.sha256 },
            database: { identity: atlas.database.identity, stack: atlas.database.identity, owner: atlas.deployer.identity },
            tls: { trusted: true },
        });
        expect(alive(report.server.pid)).toBe(true);
        expect(report.rows).toMatchObject({ status: expect.any(String), entity_count: expect.any(Number), relation_count: expect.any(Number) });
        expect(report.tls.remainingFraction).toBeGreaterThan(CERT_MIN_REMAINING);
        expect(Date.parse(report.tls.validTo)).toBeGreaterThan(Date.now());
        expect(report.dataDir.bytes).toBeGreaterThan(0);
        expect(report.disk.freePercent).toBeGreaterThan(0);
        expect(report.disk.totalBytes).toBeGreaterThan(report.disk.freeBytes);
    });

    it("--logs N prints the server's last N log lines after the verdict", async () => {
        const r = await status("--logs", "5");
        expect(r.code).toBe(0);
        const lines = r.stdout.trimEnd().split("\n");
        const at = lines.indexOf("last 5 log lines:");
        expect(at, r.stdout).toBeGreaterThan(0);
        expect(lines.slice(at + 1)).toHaveLength(5);
    });

    it("after a module published by hand (PUT with the deployer token, other wasm) it exits 1 and reports the hash mismatch", async () => {
        const [row] = await sqlRows(serverUrl, DB, "SELECT program_bytes FROM st_module", token);
        const running = Buffer.from(String(row![0]).replace(/^0x/, ""), "hex");
        expect(createHash("sha256").update(running).digest("hex")).toBe(atlas.module.sha256);
        const other = withCustomSection(running, "iu-e2e", Buffer.from("published by hand"));
        const otherSha = createHash("sha256").update(other).digest("hex");
        const put = await request("PUT", `${serverUrl}/v1/database/${DB}`, { token, body: other, contentType: "application/wasm" });
        expect(put.status, put.body).toBe(200);
        expect(put.body).toContain('"op":"updated"');

        const { code, report } = await statusJson();
        expect(code).toBe(1);
        expect(report.module).toMatchObject({ running: otherSha, stack: atlas.module.sha256 });
        expect(report.problems.join("\n")).toContain(`module: the server runs ${otherSha.slice(0, 12)}… but the stack published ${atlas.module.sha256.slice(0, 12)}…`);
        // Nothing else is wrong: the same database, still healthy through the front.
        expect(report.problems).toHaveLength(1);
        expect(report.database.identity).toBe(atlas.database.identity);
    });

    it("after kill -9 of the server it exits 1 and names the server", async () => {
        const pid = Number(fs.readFileSync(path.join(stateDir, STACK, "stdb.pid"), "utf8").trim());
        expect(alive(pid)).toBe(true);
        process.kill(pid, "SIGKILL");
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
        expect(alive(pid)).toBe(false);

        const r = await status();
        expect(r.code).toBe(1);
        expect(r.stdout).toContain("UNHEALTHY");
        expect(r.stdout).toContain(`server: process ${pid} from ${path.join(stateDir, STACK, "stdb.pid")} is not running`);
        // Through the front the database is gone too (Caddy answers, the upstream does not).
        expect(r.stdout).toMatch(/health: https:\/\/127\.0\.0\.1:\d+\/v1\/ping (answered 502|unreachable)/);
    });
});
