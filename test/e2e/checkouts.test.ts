import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { atlasOutputSchema } from "../../infra/contract/atlas";
import { cloneCheckout, isolatedDevConfig, makeCheckout } from "../../ops/checkout";
import { alive, freePort, listening } from "../../ops/ports";
import { changed, lastChanges, previewChanges, pulumi, pulumiOk, stackOutputs } from "../../ops/pulumi";
import { sqlRows } from "../support/http";

/**
 * A stack deployed from one checkout is managed from another: a colleague's laptop or a CI runner
 * with the same backend and passphrase. Up from clone A, delete A, then from clone B: preview and
 * up report no change, the deployer identity stays, destroy succeeds and leaves nothing. The
 * state dir is outside both clones, as a dev host's or runner's persistent disk would be.
 */
const STACK = "dev";
let tmp: string;
let origin: string;
let env: Record<string, string>;
let stateDir: string;
let serverPort: number;
let tlsPort: number;

const echo = (s: string) => process.stderr.write(s);
const inDir = (cwd: string) => ({ cwd, env, echo });
const pack = (cwd: string) => ["--policy-pack", path.join(cwd, "policy", "pack")];

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-checkouts-"));
    stateDir = path.join(tmp, "state");
    serverPort = await freePort();
    tlsPort = await freePort();
    origin = makeCheckout(path.join(tmp, "origin"), {
        devConfig: isolatedDevConfig({ stateDir, serverPort, tlsPort }),
    });
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-shared-passphrase", { mode: 0o600 });
    env = {
        PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`,
        PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase"),
    };
});

afterAll(async () => {
    const b = path.join(tmp, "b");
    if (fs.existsSync(b)) await pulumi(["destroy", "-s", STACK, "--yes"], inDir(b));
    fs.rmSync(tmp, { recursive: true, force: true });
});

describe("one stack, two checkouts", () => {
    let identity: string;
    let token: string;
    let pids: number[];

    it("up from checkout A creates the stack", async () => {
        const a = cloneCheckout(origin, path.join(tmp, "a"));
        await pulumiOk(["stack", "init", STACK], inDir(a));
        await pulumiOk(["up", "-s", STACK, "--yes", ...pack(a)], inDir(a));
        expect(changed(await lastChanges(STACK, inDir(a)))).toEqual(["create"]);
        const outputs = await stackOutputs(STACK, { ...inDir(a), showSecrets: true });
        identity = atlasOutputSchema.parse(outputs.atlas).deployer.identity;
        token = outputs.deployerToken as string;
        pids = ["stdb.pid", "caddy.pid"].map((f) => Number(fs.readFileSync(path.join(stateDir, STACK, f), "utf8")));
        const state = fs.readFileSync(path.join(tmp, "backend", ".pulumi", "stacks", "inner-universe", `${STACK}.json`), "utf8");
        expect(state).not.toContain(a);
        fs.rmSync(a, { recursive: true, force: true });
    });

    it("from checkout B (A removed): preview and up report no change, the identity is unchanged", async () => {
        const b = cloneCheckout(origin, path.join(tmp, "b"));
        // B never saw A's salt (it lived in A's Pulumi.dev.yaml): the state's copy decrypts.
        expect(fs.readFileSync(path.join(b, "Pulumi.dev.yaml"), "utf8")).not.toMatch(/encryptionsalt/);
        const preview = previewChanges((await pulumiOk(["preview", "-s", STACK, "--json", ...pack(b)], inDir(b))).stdout);
        expect(changed(preview)).toEqual([]);
        await pulumiOk(["up", "-s", STACK, "--yes", ...pack(b)], inDir(b));
        expect(changed(await lastChanges(STACK, inDir(b)))).toEqual([]);
        const outputs = await stackOutputs(STACK, { ...inDir(b), showSecrets: true });
        expect(atlasOutputSchema.parse(outputs.atlas).deployer.identity).toBe(identity);
        expect(outputs.deployerToken).toBe(token);
        // The same processes serve; the deployer still owns the database.
        expect(pids.every(alive)).toBe(true);
        const rows = await sqlRows(`http://127.0.0.1:${serverPort}`, "inner-universe", "SELECT * FROM config WHERE key = 'module_config'", token);
        expect(rows).toHaveLength(1);
    });

    it("destroy from checkout B succeeds and leaves no process, port or data", async () => {
        const b = path.join(tmp, "b");
        await pulumiOk(["destroy", "-s", STACK, "--yes"], inDir(b));
        for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
        expect(pids.some(alive)).toBe(false);
        expect(await listening(serverPort)).toBe(false);
        expect(await listening(tlsPort)).toBe(false);
        expect(fs.existsSync(path.join(stateDir, STACK))).toBe(false);
    });
});
