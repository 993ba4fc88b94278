import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIOUS_SERVER_VERSION, SERVER_VERSION } from "../../infra/facts";
import { rootVersion } from "../../ops/backup/serverVersion";
import { callOk, type Dump, diffDumps, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { isolatedDevConfig, makeCheckout, setStackConfig } from "../../ops/checkout";
import { toolsFile } from "../../ops/env";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, pulumi, run, stackOutputs } from "../../ops/pulumi";

/**
 * The upgrade drill on real servers (spacetimedb-standalone 1.1.1, built by toolchain/setup-tools.sh
 * like 1.2.0, and 1.2.0): data written on the old version, `bash scripts/dev.sh` with the new
 * version, then the refused downgrade and the way back by restore. What is not automatic yet (the
 * backup before the switch, the rollback) is done here by the operator commands, as docs/upgrade.md says.
 */
const STACK = "dev";
let tmp: string;
let checkout: string;
let stateDir: string;
let env: Record<string, string>;
let adminUrl: string;
let token: string;
let database: string;
let root: string;
let moduleSha: string;
let onOld: Dump;
let preUpgradeBackup: string;

const echo = (s: string) => process.stderr.write(s);
const dev = (...args: string[]): Promise<CliResult> => run("bash", ["scripts/dev.sh", ...args], { cwd: checkout, env, echo });
const ops = (...args: string[]): Promise<CliResult> => run("npx", ["tsx", "ops/main.ts", ...args], { cwd: checkout, env, echo });
const pid = () => Number(fs.readFileSync(path.join(stateDir, STACK, "stdb.pid"), "utf8").trim());

function previousBinary(): string {
    const bin = toolsFile().SPACETIMEDB_PREVIOUS_BIN ?? "";
    if (!fs.existsSync(bin))
        throw new Error(`spacetimedb-standalone ${PREVIOUS_SERVER_VERSION} is not built (${bin || "no SPACETIMEDB_PREVIOUS_BIN"}): run \`bash toolchain/setup-tools.sh test\``);
    return bin;
}

const onVersion = (version: string, binary: string) => setStackConfig(checkout, STACK, { spacetimedb: { version }, local: { server_binary: binary } });

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-upgrade-"));
    stateDir = path.join(tmp, "state");
    const iso = isolatedDevConfig({ stateDir, serverPort: await freePort(), tlsPort: await freePort() });
    // Metrics off: no scheduler rows between the dumps compared below.
    checkout = makeCheckout(path.join(tmp, "checkout"), { devConfig: { ...iso, feature_flags: { enable_metrics: false } } });
    onVersion(PREVIOUS_SERVER_VERSION, previousBinary());
    fs.mkdirSync(path.join(tmp, "backend"));
    fs.writeFileSync(path.join(tmp, "passphrase"), "e2e-upgrade-passphrase", { mode: 0o600 });
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(tmp, "passphrase") };
});

afterAll(async () => {
    try {
        if (checkout) await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe(`upgrade drill: ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION}`, () => {
    it(`brings the stack up on ${PREVIOUS_SERVER_VERSION} and writes rows there`, async () => {
        const up = await dev("up");
        expect(up.code, up.stderr).toBe(0);
        const outputs = await stackOutputs(STACK, { cwd: checkout, env, showSecrets: true });
        const atlas = outputs.atlas as { server: { version: string }; database: { name: string }; module: { sha256: string } };
        expect(atlas.server.version).toBe(PREVIOUS_SERVER_VERSION);
        token = outputs.deployerToken as string;
        database = atlas.database.name;
        moduleSha = atlas.module.sha256;
        adminUrl = (outputs.backup as { adminUrl: string }).adminUrl;
        root = path.resolve(checkout, (outputs.backup as { rootDir: string }).rootDir);
        expect(rootVersion(root)).toBe(PREVIOUS_SERVER_VERSION);
        const c = (r: string, a: unknown[]) => callOk(adminUrl, database, token, r, a);
        for (const n of ["Ann", "Bob", "Cy"]) await c("create_entity", ["person", n, `{"n":"${n}"}`]);
        await c("create_relation", [1, 2, "knows", "{}"]);
        await c("set_config", ["e2e_upgrade", "written-on-old"]);
        onOld = await fullDump(adminUrl, database, token);
        expect(onOld.entity!.rows).toHaveLength(3);
    });

    it(`upgrades in place with \`bash scripts/dev.sh\`: every row, the token and the module the same; the root now says ${SERVER_VERSION}`, async () => {
        // The verified copy the way back needs (the gate is by hand until it is automatic).
        const made = await ops("backup", "create", "--stack", STACK);
        expect(made.code, made.stderr).toBe(0);
        preUpgradeBackup = (JSON.parse(made.stdout) as { id: string }).id;
        const before = pid();
        onVersion(SERVER_VERSION, "spacetimedb-standalone");
        const up = await dev("up");
        expect(up.code, up.stderr).toBe(0);
        expect(pid()).not.toBe(before);
        expect(alive(before)).toBe(false);
        expect(rootVersion(root)).toBe(SERVER_VERSION);
        const outputs = await stackOutputs(STACK, { cwd: checkout, env });
        expect((outputs.atlas as { server: { version: string } }).server.version).toBe(SERVER_VERSION);
        expect((outputs.atlas as { module: { sha256: string } }).module.sha256).toBe(moduleSha);
        expect(await tokenAccepted(adminUrl, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(adminUrl, database, token))).toEqual([]);
        // The module still serves: a write on the new version.
        await callOk(adminUrl, database, token, "set_config", ["e2e_upgrade", "written-on-new"]);
    });

    it(`refuses the downgrade to ${PREVIOUS_SERVER_VERSION} before anything stops, naming the restore`, async () => {
        const serving = pid();
        const onNew = await fullDump(adminUrl, database, token);
        onVersion(PREVIOUS_SERVER_VERSION, previousBinary());
        const up = await dev("up");
        expect(up.code).not.toBe(0);
        expect(up.stdout + up.stderr).toContain(`refusing a downgrade: the server root ${root} was last run by SpacetimeDB ${SERVER_VERSION}`);
        expect(up.stdout + up.stderr).toContain("backup restore --stack STACK --id ID");
        expect(pid()).toBe(serving);
        expect(alive(serving)).toBe(true);
        expect(rootVersion(root)).toBe(SERVER_VERSION);
        expect(diffDumps(onNew, await fullDump(adminUrl, database, token))).toEqual([]);
    });

    it(`the way back: the pre-upgrade backup restored, then \`bash scripts/dev.sh\` on ${PREVIOUS_SERVER_VERSION} serves the pre-upgrade rows`, async () => {
        const restored = await ops("backup", "restore", "--stack", STACK, "--id", preUpgradeBackup);
        expect(restored.code, restored.stderr).toBe(0);
        // Started on the newer binary the stack last ran, the old root would be upgraded again.
        expect(JSON.parse(restored.stdout)).toMatchObject({ restored: preUpgradeBackup, started: false });
        expect(restored.stderr).toContain(`taken on SpacetimeDB ${PREVIOUS_SERVER_VERSION} and the stack last ran ${SERVER_VERSION}`);
        expect(rootVersion(root)).toBe(PREVIOUS_SERVER_VERSION);
        const up = await dev("up");
        expect(up.code, up.stderr).toBe(0);
        expect(rootVersion(root)).toBe(PREVIOUS_SERVER_VERSION);
        expect(await tokenAccepted(adminUrl, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(adminUrl, database, token))).toEqual([]);
    });
});
