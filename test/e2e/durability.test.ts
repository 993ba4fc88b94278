import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { create as readinessCreate } from "../../infra/spacetimedb/readiness-impl";
import { freePort } from "../../ops/ports";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * Why `up` waits before reporting a publish ready: on spacetimedb-standalone 1.2.0, a kill -9
 * within a millisecond of the publish's 200 loses the database (its control database is flushed
 * every 50 ms), measured here at about 40% of rounds. After the Readiness provider's create — what
 * `up` runs last — the same kill -9 never loses it. Real server, real provider code, many rounds.
 */
const wasm = zlib.gunzipSync(fs.readFileSync(path.join(ROOT, "test/fixtures/spacetimedb/module.wasm.gz")));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-durability-"));
const children = new Set<ChildProcess>();
afterAll(() => {
    for (const c of children) c.kill("SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
});

async function waitPing(url: string): Promise<void> {
    for (let i = 0; i < 300; i++) {
        try {
            if ((await fetch(`${url}/v1/ping`)).status === 200) return;
        } catch {
            /* starting */
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${url}/v1/ping never answered`);
}

function server(root: string, port: number): ChildProcess {
    const c = spawn(
        "spacetimedb-standalone",
        [
            "start",
            "--data-dir",
            `${root}/data`,
            "--jwt-pub-key-path",
            `${root}/config/id_ecdsa.pub`,
            "--jwt-priv-key-path",
            `${root}/config/id_ecdsa`,
            "--listen-addr",
            `127.0.0.1:${port}`,
        ],
        { stdio: "ignore" },
    );
    c.on("error", (e) => {
        throw new Error(`spacetimedb-standalone not runnable (${e.message}); run toolchain/setup-tools.sh`);
    });
    children.add(c);
    return c;
}

async function kill9(c: ChildProcess): Promise<void> {
    if (c.exitCode === null) {
        c.kill("SIGKILL");
        await new Promise((r) => c.once("exit", r));
    }
    children.delete(c);
}

/** One round: fresh root, publish, then `between`, kill -9, restart: is the database there (and, with checkRows, its module rows and the marker)? */
async function round(n: number, between: (url: string, token: string) => Promise<void>, checkRows = false): Promise<boolean> {
    const root = path.join(tmp, `r${n}`);
    fs.mkdirSync(path.join(root, "config"), { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let c = server(root, port);
    await waitPing(url);
    const { token } = (await (await fetch(`${url}/v1/identity`, { method: "POST" })).json()) as { token: string };
    const pub = await fetch(`${url}/v1/database/probe`, { method: "PUT", headers: { Authorization: `Bearer ${token}` }, body: wasm });
    expect(pub.status, await pub.text()).toBe(200);
    await between(url, token);
    await kill9(c);
    c = server(root, port);
    await waitPing(url);
    let there = (await fetch(`${url}/v1/database/probe`)).status === 200;
    if (there && checkRows) {
        const sql = await fetch(`${url}/v1/database/probe/sql`, {
            method: "POST",
            headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
            body: "SELECT key FROM config",
        });
        const keys = JSON.stringify(((await sql.json()) as { rows: unknown[][] }[])[0]!.rows);
        there = keys.includes("module_config") && keys.includes("e2e_marker");
    }
    await kill9(c);
    return there;
}

describe("durability after deploy (spacetimedb-standalone 1.2.0, kill -9)", () => {
    it("right after the publish answers, the database is sometimes lost (the race `up` must not report over)", async () => {
        let lost = 0;
        let rounds = 0;
        while (rounds < 40 && lost === 0) if (!(await round(rounds++, async () => {}))) lost++;
        console.error(`durability: kill -9 right after the publish's 200 lost the database in round ${rounds}`);
        // A fact about the 1.2 server, checked like the status codes in protocol-impl.ts: if this
        // stops failing (another server version), DURABILITY_WAIT_MS may no longer be needed.
        expect(lost, "no round lost the database: the flush race was not observed on this server").toBe(1);
    });

    it("after the Readiness provider's create (what `up` runs last), kill -9 never loses the database or its module", async () => {
        for (let i = 0; i < 10; i++) {
            const there = await round(
                100 + i,
                async (url, token) => {
                    await fetch(`${url}/v1/database/probe/call/set_config`, {
                        method: "POST",
                        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
                        body: '["e2e_marker","x"]',
                    });
                    await readinessCreate({ serverUrl: url, database: "probe", token, revision: "r", timeoutSeconds: 30, timeoutMs: 5000 });
                },
                true,
            );
            expect(there, `round ${i}: database or rows gone after kill -9`).toBe(true);
        }
    });
});
