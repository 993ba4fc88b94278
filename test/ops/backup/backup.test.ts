import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSnapshotInput, createSnapshotRequest, listSnapshotsInput, snapshotIamPolicy, snapshotsBeyondRetention } from "../../../infra/aws/snapshot";
import { copyTree, describeTree, verifyTree } from "../../../infra/backup/manifest";
import { backupId, beyondRetention, checkBackupDir, FILES, find, isWithin, list, MANIFEST, makePrivate, privateBackupDir, verify } from "../../../infra/backup/store";
import { DURABILITY_WAIT_MS, probeDurable } from "../../../infra/spacetimedb/readiness-impl";
import { DURABILITY_WINDOW_MS } from "../../../ops/backup/local";
import { plainRows, plainValue } from "../../../ops/backup/logical";
import { serverControlOf } from "../../../ops/stack";

let tmp: string;
beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-backup-unit-"));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A small server root shaped like SpacetimeDB's: keys, a commitlog segment, a snapshot hard-linking an object. */
function fakeRoot(root: string): void {
    fs.mkdirSync(path.join(root, "config"), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(root, "config", "id_ecdsa"), "PRIVATE KEY", { mode: 0o600 });
    fs.writeFileSync(path.join(root, "config", "id_ecdsa.pub"), "PUBLIC KEY");
    fs.mkdirSync(path.join(root, "data", "replicas", "1", "clog"), { recursive: true });
    fs.writeFileSync(path.join(root, "data", "replicas", "1", "clog", "00000000000000000000.stdb.log"), Buffer.alloc(4096, 7));
    fs.mkdirSync(path.join(root, "data", "replicas", "1", "snapshots", "a", "objects"), { recursive: true });
    fs.mkdirSync(path.join(root, "data", "replicas", "1", "snapshots", "b", "objects"), { recursive: true });
    fs.writeFileSync(path.join(root, "data", "replicas", "1", "snapshots", "a", "objects", "page1"), "page one");
    fs.linkSync(path.join(root, "data", "replicas", "1", "snapshots", "a", "objects", "page1"), path.join(root, "data", "replicas", "1", "snapshots", "b", "objects", "page1"));
    fs.symlinkSync("config/id_ecdsa.pub", path.join(root, "pub-link"));
}

function storeBackup(backupDir: string, id: string, root: string) {
    const dir = path.join(backupDir, id);
    copyTree(root, path.join(dir, FILES));
    const tree = describeTree(path.join(dir, FILES));
    const manifest = { format: 1, id, stack: "dev", runtime: "local", database: "db", createdAt: "", recoveryPoint: "2026-12-03T00:00:00.000Z", method: "quiesced-copy", ...tree };
    fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
    return dir;
}

describe("physical backup: copy, manifest, verify", () => {
    it("copies a root preserving hard links, modes and symlinks; the manifest has a sha256 per file", () => {
        const root = path.join(tmp, "stdb");
        fakeRoot(root);
        copyTree(root, path.join(tmp, "copy"));
        const a = fs.statSync(path.join(tmp, "copy/data/replicas/1/snapshots/a/objects/page1"));
        const b = fs.statSync(path.join(tmp, "copy/data/replicas/1/snapshots/b/objects/page1"));
        expect(a.ino).toBe(b.ino);
        expect(a.nlink).toBe(2);
        expect(fs.statSync(path.join(tmp, "copy/config")).mode & 0o777).toBe(0o700);
        expect(fs.statSync(path.join(tmp, "copy/config/id_ecdsa")).mode & 0o777).toBe(0o600);
        expect(fs.readlinkSync(path.join(tmp, "copy/pub-link"))).toBe("config/id_ecdsa.pub");
        const { files, totals } = describeTree(path.join(tmp, "copy"));
        expect(totals).toEqual({ files: 5, bytes: "PRIVATE KEY".length + "PUBLIC KEY".length + 4096 + "page one".length, hardLinks: 1 });
        expect(files.find((f) => f.path === "config/id_ecdsa")?.sha256).toBe(createHash("sha256").update("PRIVATE KEY").digest("hex"));
        expect(files.find((f) => f.path.endsWith("b/objects/page1"))?.linkOf).toBe("data/replicas/1/snapshots/a/objects/page1");
        expect(verifyTree(path.join(tmp, "copy"), files)).toEqual([]);
        expect(() => copyTree(root, path.join(tmp, "copy"))).toThrow(/already exists/);
    });

    it("a backup with one byte changed, a file missing or a file added is refused, naming the file", () => {
        const root = path.join(tmp, "stdb");
        fakeRoot(root);
        const dir = storeBackup(path.join(tmp, "backups"), "20261203T000000000Z", root);
        const b = find(path.join(tmp, "backups"));
        expect(() => verify(b)).not.toThrow();
        const seg = path.join(dir, FILES, "data/replicas/1/clog/00000000000000000000.stdb.log");
        const bytes = fs.readFileSync(seg);
        bytes[100] ^= 1;
        fs.writeFileSync(seg, bytes);
        expect(() => verify(b)).toThrow(/data\/replicas\/1\/clog\/00000000000000000000\.stdb\.log: sha256 [0-9a-f]{64}, manifest says/);
        bytes[100] ^= 1;
        fs.writeFileSync(seg, bytes);
        expect(() => verify(b)).not.toThrow();
        fs.rmSync(path.join(dir, FILES, "config/id_ecdsa"));
        fs.writeFileSync(path.join(dir, FILES, "extra"), "x");
        const msg = (() => {
            try {
                verify(b);
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        })();
        expect(msg).toContain("config/id_ecdsa: missing");
        expect(msg).toContain("extra: not in the manifest");
    });

    it("ids sort by time; retention keeps the newest N; partial backups are never listed", () => {
        expect(backupId(new Date("2026-12-03T05:06:07.089Z"))).toBe("20261203T050607089Z");
        expect(beyondRetention(["20261203T000000002Z", "20261203T000000000Z", "20261203T000000001Z"], 2)).toEqual(["20261203T000000000Z"]);
        expect(beyondRetention(["a"], 3)).toEqual([]);
        expect(() => beyondRetention([], 0)).toThrow(/--keep/);
        const root = path.join(tmp, "stdb");
        fakeRoot(root);
        storeBackup(path.join(tmp, "backups"), "20261203T000000000Z", root);
        storeBackup(path.join(tmp, "backups"), "20261203T000000001Z", root);
        fs.mkdirSync(path.join(tmp, "backups", "20261203T000000002Z.partial"));
        expect(list(path.join(tmp, "backups")).map((b) => b.id)).toEqual(["20261203T000000000Z", "20261203T000000001Z"]);
        expect(find(path.join(tmp, "backups"), "latest").id).toBe("20261203T000000001Z");
        expect(() => find(path.join(tmp, "backups"), "nope")).toThrow(/no backup nope/);
        expect(() => find(path.join(tmp, "empty"))).toThrow(/no backups in/);
    });

    it("a backup dir inside the server root is refused", () => {
        expect(isWithin("/a/stdb", "/a/stdb/backups")).toBe(true);
        expect(isWithin("/a/stdb", "/a/stdb")).toBe(true);
        expect(isWithin("/a/stdb", "/a/stdb-backups")).toBe(false);
        expect(() => checkBackupDir(".iu/dev/stdb/bk", ".iu/dev/stdb")).toThrow(/inside the server root/);
        expect(() => checkBackupDir(".iu/backups/dev", ".iu/dev/stdb")).not.toThrow();
    });

    it("the local server's control step is read from the stack's state, and refused when absent or secret", () => {
        const exported = {
            deployment: {
                resources: [
                    {
                        urn: "urn:pulumi:dev::inner-universe::x::inner-universe-server-state",
                        type: "pulumi-nodejs:dynamic:Resource",
                        outputs: { create: "bash scripts/state-dir.sh create" },
                    },
                    {
                        urn: "urn:pulumi:dev::inner-universe::inner-universe:server:Local$pulumi-nodejs:dynamic:Resource::inner-universe-server-process",
                        type: "pulumi-nodejs:dynamic:Resource",
                        outputs: {
                            create: 'bash "scripts/server-ctl.sh" "start"',
                            update: 'bash "scripts/server-ctl.sh" "start"',
                            delete: 'bash "scripts/server-ctl.sh" "stop"',
                            environment: { IU_ROOT_DIR: ".iu/dev/stdb" },
                        },
                    },
                ],
            },
        };
        expect(serverControlOf(exported)).toEqual({
            start: 'bash "scripts/server-ctl.sh" "start"',
            stop: 'bash "scripts/server-ctl.sh" "stop"',
            environment: { IU_ROOT_DIR: ".iu/dev/stdb" },
        });
        expect(() => serverControlOf({ deployment: { resources: [] } })).toThrow(/no local server process step/);
        const secret = structuredClone(exported);
        (secret.deployment.resources[1]!.outputs as any).environment = { IU_ROOT_DIR: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "…" } };
        expect(() => serverControlOf(secret)).toThrow(/IU_ROOT_DIR is not a plain string/);
    });
});

describe("AWS on-demand snapshot (the SDK inputs, shapes from the EC2 API reference)", () => {
    const now = new Date("2026-12-03T05:00:00.000Z");
    const req = createSnapshotRequest({ stack: "prod", region: "eu-west-1", volumeId: "vol-1234567890abcdef0", now });

    it("is a CreateSnapshot of the data volume, tagged like DLM's snapshots so the restore runbook lists it", () => {
        expect(req).toEqual({
            Action: "CreateSnapshot",
            Version: "2016-11-15",
            Region: "eu-west-1",
            VolumeId: "vol-1234567890abcdef0",
            Description: "inner-universe prod on-demand backup 2026-12-03T05:00:00.000Z",
            TagSpecifications: [
                {
                    ResourceType: "snapshot",
                    Tags: [
                        { Key: "inner-universe:snapshot", Value: "prod" },
                        { Key: "inner-universe:stack", Value: "prod" },
                        { Key: "inner-universe:source", Value: "on-demand" },
                        { Key: "inner-universe:requested-at", Value: "2026-12-03T05:00:00.000Z" },
                        { Key: "Name", Value: "inner-universe-prod-on-demand" },
                    ],
                },
            ],
        });
    });

    it("SDK inputs: CreateSnapshotCommand of the volume with the tags set on create; DescribeSnapshots of the stack's own, by tag", () => {
        expect(createSnapshotInput(req)).toEqual({ VolumeId: "vol-1234567890abcdef0", Description: req.Description, TagSpecifications: req.TagSpecifications });
        expect(listSnapshotsInput("prod")).toEqual({ OwnerIds: ["self"], Filters: [{ Name: "tag:inner-universe:snapshot", Values: ["prod"] }] });
    });

    it("refuses a malformed volume id or region before any call", () => {
        expect(() => createSnapshotRequest({ stack: "prod", region: "eu-west-1", volumeId: "snap-1", now })).toThrow(/dataVolumeId: expected an EBS volume id/);
        expect(() => createSnapshotRequest({ stack: "prod", region: "Ireland", volumeId: "vol-1234567890abcdef0", now })).toThrow(/region: expected an AWS region/);
    });

    it("IAM: CreateSnapshot on the one volume and on tagged new snapshots, CreateTags only on create, DeleteSnapshot only of our on-demand ones", () => {
        const p = snapshotIamPolicy({ partition: "aws", region: "eu-west-1", accountId: "123456789012", volumeId: "vol-1234567890abcdef0", stack: "prod" });
        const by = Object.fromEntries(p.Statement.map((s) => [s.Sid, s]));
        expect(by.SnapshotTheDataVolume).toMatchObject({ Action: "ec2:CreateSnapshot", Resource: "arn:aws:ec2:eu-west-1:123456789012:volume/vol-1234567890abcdef0" });
        expect(by.CreateTaggedSnapshots).toMatchObject({
            Action: "ec2:CreateSnapshot",
            Resource: "arn:aws:ec2:eu-west-1::snapshot/*",
            Condition: { StringEquals: { "aws:RequestTag/inner-universe:snapshot": "prod" } },
        });
        expect(by.TagOnCreate).toMatchObject({ Action: "ec2:CreateTags", Condition: { StringEquals: { "ec2:CreateAction": "CreateSnapshot" } } });
        expect(by.PruneOwnOnDemandSnapshots).toMatchObject({ Action: "ec2:DeleteSnapshot", Condition: { StringEquals: { "aws:ResourceTag/inner-universe:source": "on-demand" } } });
        // The request's tags satisfy the policy's conditions.
        const tags = Object.fromEntries(req.TagSpecifications[0].Tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value]));
        // (StringEquals with a list: any of its values; the gate's pre-upgrade snapshots satisfy it too.)
        for (const [k, v] of Object.entries(by.CreateTaggedSnapshots!.Condition!.StringEquals)) expect([v].flat()).toContain(tags[k]);
        const gate = createSnapshotRequest({ stack: "prod", region: "eu-west-1", volumeId: "vol-1234567890abcdef0", now: new Date(0), source: "pre-upgrade" });
        const gateTags = Object.fromEntries(gate.TagSpecifications[0].Tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value]));
        for (const [k, v] of Object.entries(by.CreateTaggedSnapshots!.Condition!.StringEquals)) expect([v].flat()).toContain(gateTags[k]);
        expect(gateTags["aws:RequestTag/inner-universe:source"]).not.toBe(by.PruneOwnOnDemandSnapshots!.Condition!.StringEquals["aws:ResourceTag/inner-universe:source"]);
        expect(p.Statement.flatMap((s) => [s.Action].flat()).sort()).toEqual([
            "ec2:CreateSnapshot",
            "ec2:CreateSnapshot",
            "ec2:CreateTags",
            "ec2:DeleteSnapshot",
            "ec2:DescribeSnapshots",
            "ec2:DescribeVolumes",
            "ec2:DescribeVolumesModifications",
        ]);
    });

    it("retention deletes only on-demand snapshots beyond the count, never DLM's", () => {
        const od = (id: string, t: string) => ({ SnapshotId: id, StartTime: t, Tags: [{ Key: "inner-universe:source", Value: "on-demand" }] });
        const dlm = { SnapshotId: "snap-dlm", StartTime: "2020-01-01T00:00:00Z", Tags: [{ Key: "inner-universe:source", Value: "dlm" }] };
        expect(snapshotsBeyondRetention([od("snap-3", "2026-03"), dlm, od("snap-1", "2026-01"), od("snap-2", "2026-02")], 2)).toEqual(["snap-1"]);
    });
});

describe("logical export format", () => {
    // Recorded from spacetimedb-standalone 1.2.0: POST /v1/database/<db>/sql "SELECT * FROM config".
    const recorded = {
        schema: {
            elements: [
                { name: { some: "key" }, algebraic_type: { String: [] } },
                { name: { some: "value" }, algebraic_type: { String: [] } },
                {
                    name: { some: "description" },
                    algebraic_type: {
                        Sum: {
                            variants: [
                                { name: { some: "some" }, algebraic_type: { String: [] } },
                                { name: { some: "none" }, algebraic_type: { Product: { elements: [] } } },
                            ],
                        },
                    },
                },
                {
                    name: { some: "updated_at" },
                    algebraic_type: { Product: { elements: [{ name: { some: "__timestamp_micros_since_unix_epoch__" }, algebraic_type: { I64: [] } }] } },
                },
                { name: { some: "updated_by" }, algebraic_type: { Product: { elements: [{ name: { some: "__identity__" }, algebraic_type: { U256: [] } }] } } },
            ],
        },
        rows: [
            [
                "start_time",
                "1796276774988630",
                [0, "Module start time (microseconds since the Unix epoch)"],
                [1796276774988630],
                ["0xc200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98"],
            ],
            ["e2e", "x", [1, []], [1796276774988631], ["0xc200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98"]],
        ],
    };

    it("turns SATS-JSON rows into plain objects: hex identities, µs timestamps, options as value or null", () => {
        expect(plainRows(recorded.schema, recorded.rows)).toEqual([
            {
                key: "start_time",
                value: "1796276774988630",
                description: "Module start time (microseconds since the Unix epoch)",
                updated_at: 1796276774988630,
                updated_by: "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98",
            },
            { key: "e2e", value: "x", description: null, updated_at: 1796276774988631, updated_by: "c200945aecb6af3bce86e574296ff939e80b6b92dad076f2910ed970345d1a98" },
        ]);
        expect(plainValue({ U64: [] }, 7)).toBe(7);
    });
});

describe("durability after deploy", () => {
    it("readiness reports ready only after the server's flush window has passed (the backup waits the same window)", async () => {
        expect(DURABILITY_WAIT_MS).toBeGreaterThanOrEqual(4 * 500);
        expect(DURABILITY_WINDOW_MS).toBe(DURABILITY_WAIT_MS);
        const rows = JSON.stringify([{ schema: { elements: [] }, rows: [[1]] }]);
        const server = http.createServer((req, res) => {
            res.writeHead(200, { "Content-Type": "application/json" });
            res.end(req.url === "/v1/ping" ? "" : rows);
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as { port: number }).port;
        try {
            const t0 = Date.now();
            const outs = await probeDurable({ serverUrl: `http://127.0.0.1:${port}`, database: "db", token: "t", revision: "r", timeoutSeconds: 10, timeoutMs: 1000 });
            expect(Date.now() - t0).toBeGreaterThanOrEqual(DURABILITY_WAIT_MS - 5);
            expect(JSON.parse(outs.report)).toMatchObject({ ready: true });
        } finally {
            server.close();
        }
    });
});

describe("backups are their owner's alone (they hold the private signing key)", () => {
    it("a missing backup dir is made 0700", () => {
        const dir = path.join(tmp, "backups", "dev");
        privateBackupDir(dir);
        expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    });

    it.each([0o755, 0o750, 0o705, 0o777])("a backup dir of mode %o is refused with the fix, and left as it is", (mode) => {
        const dir = path.join(tmp, "open");
        fs.mkdirSync(dir);
        fs.chmodSync(dir, mode);
        expect(() => privateBackupDir(dir)).toThrow(`backup dir ${dir} is open to others (mode ${mode.toString(8)})`);
        expect(() => privateBackupDir(dir)).toThrow(`chmod 700 ${dir}`);
        expect(fs.statSync(dir).mode & 0o777).toBe(mode);
        expect(fs.readdirSync(dir)).toEqual([]);
    });

    it("a private one is taken as it is", () => {
        const dir = path.join(tmp, "private");
        fs.mkdirSync(dir, { mode: 0o700 });
        expect(() => privateBackupDir(dir)).not.toThrow();
    });

    it("a copied root loses every group and other permission; symlinks, contents and hard links stay", () => {
        const root = path.join(tmp, "root");
        fakeRoot(root);
        fs.chmodSync(path.join(root, "config", "id_ecdsa"), 0o644);
        const copy = path.join(tmp, "copy");
        copyTree(root, copy);
        makePrivate(copy);
        const tree = describeTree(copy);
        for (const f of tree.files) if (f.kind !== "symlink") expect(f.mode & 0o077, f.path).toBe(0);
        expect(fs.statSync(path.join(copy, "config", "id_ecdsa")).mode & 0o777).toBe(0o600);
        expect(fs.statSync(copy).mode & 0o077).toBe(0);
        expect(fs.readlinkSync(path.join(copy, "pub-link"))).toBe("config/id_ecdsa.pub");
        expect(verifyTree(copy, describeTree(root).files).filter((p) => !/mode/.test(p.problem))).toEqual([]);
    });
});
