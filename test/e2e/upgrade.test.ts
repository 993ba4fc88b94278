import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeTree } from "../../infra/backup/manifest";
import { rootVersion } from "../../infra/backup/serverVersion";
import { PREVIOUS_SERVER_VERSION, SERVER_VERSION } from "../../infra/facts";
import { callOk, type Dump, diffDumps, fullDump, tokenAccepted } from "../../ops/backup/sql";
import { isolatedDevConfig, makeCheckout, setStackConfig } from "../../ops/checkout";
import { toolsFile } from "../../ops/env";
import { alive, freePort } from "../../ops/ports";
import { type CliResult, pulumi, run, stackOutputs } from "../../ops/pulumi";

/**
 * The upgrade drill on real servers (spacetimedb-standalone 1.1.1, built by toolchain/setup-tools.sh
 * like 1.2.0, and 1.2.0), all through `bash scripts/dev.sh`: data written on the old version; an
 * upgrade whose new server never becomes ready (the real 1.2.0 behind a stand-in wrapper that makes
 * it listen elsewhere: it rewrites metadata.toml, then fails readiness) rolled back by the gate; the
 * real upgrade with its automatic backup; the downgrade refused in preview; the way back by restore.
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
/** The version the running server reports: its own executable's --version. */
const servingVersion = () => {
    const r = spawnSync(`/proc/${pid()}/exe`, ["--version"], { encoding: "utf8" });
    return String(r.stdout).match(/tool version (\d+\.\d+\.\d+);/)?.[1];
};

/** Stand-in for an upgrade that breaks: the real new binary, told to listen where no readiness probe looks. */
function brokenNewBinary(): string {
    const dir = path.join(tmp, "broken");
    fs.mkdirSync(dir, { recursive: true });
    const real = execFileSync("bash", ["-c", "command -v spacetimedb-standalone"], { encoding: "utf8" }).trim();
    const bin = path.join(dir, "spacetimedb-standalone");
    fs.writeFileSync(
        bin,
        `#!/usr/bin/env bash\n# stand-in: ${real} on a port nobody probes\nargs=()\nfor a in "$@"; do [[ \${prev:-} == --listen-addr ]] && a=127.0.0.1:1; args+=("$a"); prev=$a; done\nexec ${real} "\${args[@]}"\n`,
        { mode: 0o755 },
    );
    return bin;
}

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

    it("an upgrade whose new server fails readiness is rolled back by the gate: the old version serves the old rows, and the up fails saying so", async () => {
        const before = pid();
        setStackConfig(checkout, STACK, { spacetimedb: { version: SERVER_VERSION, ready_timeout_s: 10 }, local: { server_binary: brokenNewBinary() } });
        const up = await dev("up");
        expect(up.code).not.toBe(0);
        const said = up.stdout + up.stderr;
        expect(said).toContain(`upgrade ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION} failed after the switch`);
        expect(said).toMatch(
            /Rolled back: the upgraded root is kept at \S+failed-upgrade-\d{8}T\d{9}Z; the pre-upgrade backup \d{8}T\d{9}Z is restored; SpacetimeDB 1\.1\.1 \(\S+\) is serving it again\./,
        );
        expect(pid()).not.toBe(before);
        expect(servingVersion()).toBe(PREVIOUS_SERVER_VERSION);
        expect(rootVersion(root)).toBe(PREVIOUS_SERVER_VERSION);
        // The failed root is kept (it says 1.2.0: the new binary did touch it), nothing deleted.
        const aside = fs.readdirSync(path.dirname(root)).filter((n) => n.startsWith(`${path.basename(root)}.failed-upgrade-`));
        expect(aside).toHaveLength(1);
        expect(rootVersion(path.join(path.dirname(root), aside[0]!))).toBe(SERVER_VERSION);
        expect(await tokenAccepted(adminUrl, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(adminUrl, database, token))).toEqual([]);
    });

    it(`the preview names the one-way step; \`bash scripts/dev.sh\` upgrades with a backup first: every row, the token and the module the same`, async () => {
        setStackConfig(checkout, STACK, { spacetimedb: { version: SERVER_VERSION, ready_timeout_s: 60 }, local: { server_binary: "spacetimedb-standalone" } });
        const preview = await dev("preview");
        expect(preview.code, preview.stderr).toBe(0);
        expect(preview.stdout).toContain(`server ${PREVIOUS_SERVER_VERSION} → ${SERVER_VERSION}: backup first, one-way, rollback = restore`);
        const before = pid();
        const up = await dev("up");
        expect(up.code, up.stderr).toBe(0);
        expect(pid()).not.toBe(before);
        expect(alive(before)).toBe(false);
        expect(rootVersion(root)).toBe(SERVER_VERSION);
        // The atlas output names the version the server itself reports.
        expect(servingVersion()).toBe(SERVER_VERSION);
        const outputs = await stackOutputs(STACK, { cwd: checkout, env });
        expect((outputs.atlas as { server: { version: string } }).server.version).toBe(servingVersion());
        expect((outputs.atlas as { module: { sha256: string } }).module.sha256).toBe(moduleSha);
        // The gate's backup, in the outputs, listed and verifiable; taken on the old version.
        const last = (outputs.backup as { lastUpgrade: { from: string; to: string; backupId: string } }).lastUpgrade;
        expect(last).toMatchObject({ from: PREVIOUS_SERVER_VERSION, to: SERVER_VERSION });
        preUpgradeBackup = last.backupId;
        const listed = await ops("backup", "list", "--stack", STACK, "--json");
        expect((JSON.parse(listed.stdout) as { id: string }[]).map((b) => b.id)).toContain(preUpgradeBackup);
        const verified = await ops("backup", "verify", "--stack", STACK, "--id", preUpgradeBackup);
        expect(verified.code, verified.stderr).toBe(0);
        expect(await tokenAccepted(adminUrl, token)).toBe(true);
        expect(diffDumps(onOld, await fullDump(adminUrl, database, token))).toEqual([]);
        // The module still serves: a write on the new version.
        await callOk(adminUrl, database, token, "set_config", ["e2e_upgrade", "written-on-new"]);
        // And the next up is a no-op: the gate is passed.
        const again = await dev("up");
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).not.toMatch(/~ .*ServerUpgrade|updated/);
    });

    it(`refuses the downgrade to ${PREVIOUS_SERVER_VERSION} in preview, before anything stops: every byte of the root unchanged`, async () => {
        const serving = pid();
        const onNew = await fullDump(adminUrl, database, token);
        const tree = describeTree(root);
        onVersion(PREVIOUS_SERVER_VERSION, previousBinary());
        for (const verb of ["preview", "up"]) {
            const r = await dev(verb);
            expect(r.code).not.toBe(0);
            expect(r.stdout + r.stderr).toContain(`was last run by SpacetimeDB ${SERVER_VERSION} and spacetimedb.version is ${PREVIOUS_SERVER_VERSION}`);
            expect(r.stdout + r.stderr).toContain("backup restore --stack STACK --id ID");
        }
        expect(pid()).toBe(serving);
        expect(alive(serving)).toBe(true);
        expect(describeTree(root)).toEqual(tree);
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
