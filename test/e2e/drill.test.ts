import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { growCommand } from "../../infra/aws/growth-impl";
import { publishRequest } from "../../infra/spacetimedb/protocol-impl";
import { Drill, type DrillHost, sha256OfFile, VOLUME_MIB, type Volume } from "../../ops/drill/host/drill";
import { exec, waitFor } from "../../ops/drill/host/exec";
import { frontRequest } from "../../ops/drill/host/front";
import { ACME_HOST } from "../../ops/drill/host/overrides";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { expandUserData } from "../support/userData";

/**
 * Production host drill: the user data the program renders for the prod stack (Pulumi.prod.yaml
 * plus drill overrides as stack config, taken from the registered aws.ec2.Instance under mocks)
 * boots a real systemd host (Debian bookworm container) with a real block device (a loop file as
 * /dev/nvme1n1). Downloads come from the drill's HTTPS mirror, the certificate from its ACME CA.
 * Stand-ins, each named so on the host: udev's by-id/by-uuid links, systemd-fstab-generator's
 * device entries (systemd skips them in containers), the CloudWatch agent, the CA in the trust store.
 */
const started = Date.now();
let drill: Drill;
let data: Volume;
let host: DrillHost;
let ip: string;
let token: string;
let firstUuid: string;
let firstKeySha: string;

const domain = () => drill.domain;
const front = (method: string, p: string, opts: Parameters<typeof frontRequest>[5] = {}) => frontRequest(ip, domain(), drill.caRoot, method, p, opts);
const sh = async (h: DrillHost, script: string) => (await h.sh(script)).trim();
const unitProps = async (h: DrillHost, unit: string, ...props: string[]) =>
    Object.fromEntries((await sh(h, `systemctl show ${unit} ${props.map((p) => `-p ${p}`).join(" ")}`)).split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));

/** A unit's main process as the kernel sees it: /proc/PID/status fields, and whether systemd gave it a user namespace of its own. */
async function processStatus(h: DrillHost, unit: string): Promise<Record<string, string | boolean>> {
    const pid = (await unitProps(h, unit, "MainPID")).MainPID;
    const fields = Object.fromEntries((await sh(h, `cat /proc/${pid}/status`)).split("\n").map((l) => l.split(/:\s*/, 2) as [string, string]));
    const ownUserNamespace = (await sh(h, `readlink /proc/${pid}/ns/user`)) !== (await sh(h, "readlink /proc/1/ns/user"));
    return { ...fields, ownUserNamespace };
}

async function bootstrapped(h: DrillHost, expected: "done" | "refused") {
    const r = await h.bootstrap();
    if (r.outcome !== expected) throw new Error(`bootstrap ${r.outcome}, expected ${expected}:\n${await h.diagnostics()}`);
    return r;
}

async function pingThroughFront(): Promise<void> {
    ip = await host.ip();
    await waitFor("/v1/ping through the TLS front", 180_000, async () => ((await front("GET", "/v1/ping")).status === 200 ? true : undefined), 2000);
}

async function serverActive(h: DrillHost): Promise<void> {
    await waitFor(`spacetimedb.service active on ${h.name}`, 180_000, async () =>
        (await unitProps(h, "spacetimedb.service", "ActiveState")).ActiveState === "active" ? true : undefined,
    );
}

const tokenAccepted = async () => (await front("POST", "/v1/identity/websocket-token", { token })).status;
/** The rows the deploy wrote (init event, config rows), read from the deploy address with the deployer's token. */
const deployedRows = () => drill.deployedRows(token);
let rowsBefore: string;

beforeAll(async () => {
    drill = await Drill.setup();
    data = await drill.volume("data");
});

afterAll(async () => {
    await drill?.teardown();
    process.stdout.write(`[drill] production host drill took ${Math.round((Date.now() - started) / 1000)}s\n`);
});

describe("the drill's own scripts", () => {
    it("pass shellcheck", () => {
        const dir = path.join(ROOT, "ops", "drill", "host");
        const files = [
            ...fs
                .readdirSync(dir)
                .filter((f) => f.endsWith(".sh"))
                .map((f) => path.join(dir, f)),
            path.join(dir, "standins", "iu-drill-udev-standin"),
            path.join(dir, "standins", "iu-drill-fstab-standin"),
            path.join(dir, "standins", "amazon-cloudwatch-agent-ctl"),
        ];
        for (const f of files) {
            const r = spawnSync("shellcheck", ["-x", "--severity=style", f], { cwd: ROOT, encoding: "utf8" });
            if (r.error) throw new Error(`shellcheck is not installed (toolchain/setup-tools.sh installs it): ${r.error.message}`);
            expect(r.status, `${f}\n${r.stdout}`).toBe(0);
        }
    });

    it("detach a loop device only while it is still backed by the drill's own file", async () => {
        const loop = path.join(ROOT, "ops", "drill", "host", "loop.sh");
        const dir = fs.mkdtempSync(path.join(drill.workDir, "loops-"));
        const [mine, other] = [path.join(dir, "mine.img"), path.join(dir, "other.img")];
        for (const f of [mine, other]) await exec("bash", [loop, "create", f, "1"]);
        expect((await exec("bash", [loop, "create", mine, "1"], { check: false })).stderr).toContain("exists; refusing to overwrite a volume file");
        const dev = (await exec("bash", [loop, "attach", mine])).stdout.trim();
        const backing = async () => (await exec("losetup", ["--noheadings", "--output", "BACK-FILE", dev], { check: false })).stdout.trim();
        try {
            await exec("bash", [loop, "detach", dev, other]);
            expect(await backing()).toBe(mine);
        } finally {
            await exec("bash", [loop, "detach", dev, mine]);
        }
        expect(await backing()).toBe("");
    });

    it("seed the host with the instance's user data as the program registered it, for a Debian prod host", () => {
        expect(drill.rendered.userData.startsWith("#cloud-config\n")).toBe(true);
        expect(expandUserData(drill.rendered.userData)).toContain(`readonly VOLUME_ID='${drill.rendered.volumeId}'`);
        expect(expandUserData(drill.rendered.userData)).toContain("readonly HOST_OS='debian'");
        expect(expandUserData(drill.rendered.userData)).toContain(`readonly STDB_SHA256='${drill.assets.server.sha256}'`);
        expect(drill.rendered.userData).toContain(`acme_ca https://${ACME_HOST}/acme/local/directory`);
        expect(Buffer.byteLength(drill.rendered.userData)).toBeLessThan(16 * 1024);
    });
});

describe("first boot on a blank volume", () => {
    beforeAll(async () => {
        host = await drill.boot("host1", data, drill.rendered.instanceId);
        const r = await bootstrapped(host, "done");
        expect(r.log).toContain("formatting blank volume");
        await pingThroughFront();
    });

    it("formats XFS and mounts /stdb from fstab by UUID with nofail", async () => {
        firstUuid = await sh(host, "blkid -p -o value -s UUID /dev/nvme1n1");
        expect(await sh(host, "blkid -p -o value -s TYPE /dev/nvme1n1")).toBe("xfs");
        expect(await sh(host, "grep ' /stdb ' /etc/fstab")).toMatch(new RegExp(`^UUID=${firstUuid} /stdb xfs \\S*\\bnofail\\b`));
        expect(await sh(host, "findmnt -n -o SOURCE,FSTYPE /stdb")).toMatch(/^\/dev\/nvme1n1\s+xfs$/);
        // The mount unit comes from that line (through the fstab generator stand-in: systemd's own skips devices in containers).
        expect(await unitProps(host, "stdb.mount", "ActiveState", "SourcePath")).toEqual({ ActiveState: "active", SourcePath: "/etc/fstab" });
    });

    it("keeps the data and the JWT signing keys on the volume", async () => {
        for (const p of ["/stdb/data/control-db", "/stdb/config/id_ecdsa", "/stdb/config/id_ecdsa.pub"]) {
            expect(await sh(host, `findmnt -n -o TARGET --target ${p}`), p).toBe("/stdb");
        }
        expect(await sh(host, "stat -c %U:%a /stdb/config")).toBe("spacetimedb:700");
        firstKeySha = await sh(host, "sha256sum < /stdb/config/id_ecdsa.pub");
    });

    it("runs the server unit, stopped by SIGINT", async () => {
        expect(await unitProps(host, "spacetimedb.service", "ActiveState", "KillSignal", "User")).toEqual({ ActiveState: "active", KillSignal: "2", User: "spacetimedb" });
    });

    it("runs the server and Caddy in their sandboxes, as the kernel reports their processes", async () => {
        const server = await processStatus(host, "spacetimedb.service");
        expect(server).toMatchObject({ Seccomp: "2", NoNewPrivs: "1", Umask: "0077", CapBnd: "0000000000000000", CapEff: "0000000000000000", ownUserNamespace: true });
        // CAP_NET_BIND_SERVICE (bit 10) and nothing else; no user namespace of its own (it would void the capability).
        const caddy = await processStatus(host, "caddy.service");
        expect(caddy).toMatchObject({ Seccomp: "2", NoNewPrivs: "1", Umask: "0077", CapBnd: "0000000000000400", CapAmb: "0000000000000400", ownUserNamespace: false });
    });

    it("serves /v1/ping through TLS with a certificate the drill's ACME CA issued", async () => {
        const r = await front("GET", "/v1/ping");
        expect(r.status).toBe(200);
        expect(r.cert.subjectaltname).toContain(`DNS:${domain()}`);
        expect(r.cert.issuer.CN).toMatch(/Caddy Local Authority/);
        // Ordered over ACME (the acme_ca directory), not Caddy's internal issuer:
        expect(await sh(host, `ls /stdb/caddy/data/caddy/certificates/`)).toBe(`${ACME_HOST}-acme-local-directory`);
    });

    it("runs the program's deploy steps (identity, publish, settings, readiness) through the front from the deploy address", async () => {
        const deployed = await drill.deploySteps();
        token = deployed.token;
        expect(deployed.identity).toMatch(/^[0-9a-f]{64}$/);
        expect(deployed.database.databaseIdentity).toMatch(/^[0-9a-f]{64}$/);
        expect(await tokenAccepted()).toBe(200);
        rowsBefore = await deployedRows();
        const [initEvents, config] = JSON.parse(rowsBefore) as unknown[][][];
        expect(initEvents).toHaveLength(1);
        expect(config!.length).toBeGreaterThan(0);
    });

    it("refuses publish, SQL, metrics and internal routes from a non-deploy address (this machine)", async () => {
        const db = drill.rendered.steps.database.database as string;
        const wasm = fs.readFileSync(path.resolve(ROOT, drill.rendered.steps.database.wasmPath as string));
        const publish = publishRequest(db, false, token, wasm);
        expect((await front(publish.method, publish.route, { token, body: wasm, contentType: "application/wasm" })).status, "publish").toBe(404);
        expect((await front("POST", `/v1/database/${db}/sql`, { token, body: "SELECT * FROM config", contentType: "text/plain" })).status, "sql").toBe(404);
        for (const [method, p] of [
            ["GET", "/v1/metrics"],
            ["GET", "/internal/identity"],
            ["POST", "/v1/database/other"],
        ] as const) {
            expect((await front(method, p, { token })).status, `${method} ${p}`).toBe(404);
        }
    });

    it("gave the CloudWatch agent (drill stand-in) its config parameter", async () => {
        expect(await sh(host, "cat /var/log/iu-drill/cloudwatch-agent-ctl.calls")).toBe("-a fetch-config -m ec2 -s -c ssm:AmazonCloudWatch-inner-universe-prod");
    });
});

describe("the server unit", () => {
    it("systemctl stop stops the server with SIGINT", async () => {
        await sh(host, "systemctl stop spacetimedb.service");
        // The 1.2 server installs no signal handler: it dies of the signal systemd sent, which systemd records.
        expect(await unitProps(host, "spacetimedb.service", "ActiveState", "ExecMainCode", "ExecMainStatus")).toEqual({
            ActiveState: "inactive",
            ExecMainCode: "2",
            ExecMainStatus: "2",
        });
        // SIGINT is one of the signals systemd counts as a clean stop: no failure, nothing to restart.
        expect(await sh(host, "journalctl -u spacetimedb.service --no-pager -n 20")).toContain("spacetimedb.service: Deactivated successfully.");
        await sh(host, "systemctl start spacetimedb.service");
        await serverActive(host);
    });

    it("restarts the server after kill -9", async () => {
        const before = await unitProps(host, "spacetimedb.service", "MainPID", "NRestarts");
        await sh(host, `kill -9 ${before.MainPID}`);
        const after = await waitFor("a restarted server", 60_000, async () => {
            const p = await unitProps(host, "spacetimedb.service", "MainPID", "NRestarts", "ActiveState");
            return p.ActiveState === "active" && p.MainPID !== "0" && p.MainPID !== before.MainPID ? p : undefined;
        });
        expect(Number(after.NRestarts)).toBe(Number(before.NRestarts) + 1);
        await pingThroughFront();
        expect(await tokenAccepted()).toBe(200);
        expect(await deployedRows()).toBe(rowsBefore);
    });
});

describe("reboot and host replacement keep the volume", () => {
    it("reboot: no second bootstrap, /stdb mounted from fstab, same filesystem and keys, token still accepted", async () => {
        await host.reboot();
        await serverActive(host);
        await pingThroughFront();
        const logText = await sh(host, "cat /var/log/cloud-init-output.log");
        expect(logText.match(/\[iu-bootstrap\] starting/g)).toHaveLength(1);
        expect(await sh(host, "findmnt -n -o SOURCE,FSTYPE /stdb")).toMatch(/^\/dev\/nvme1n1\s+xfs$/);
        expect(await sh(host, "blkid -p -o value -s UUID /dev/nvme1n1")).toBe(firstUuid);
        expect(await sh(host, "sha256sum < /stdb/config/id_ecdsa.pub")).toBe(firstKeySha);
        expect(await tokenAccepted()).toBe(200);
        expect(await deployedRows()).toBe(rowsBefore);
    });

    it("reboot without the volume: the host boots (nofail), and neither the server nor Caddy starts on the root disk", async () => {
        // The attachment is gone: on this boot the udev stand-in publishes no link for the volume.
        await sh(host, "rm /etc/iu-drill/volume-id");
        await host.reboot();
        await waitFor("the boot to finish", 180_000, async () =>
            /^(running|degraded)$/.test((await host.exec(["systemctl", "is-system-running"])).stdout.trim()) ? true : undefined,
        );
        expect(await sh(host, "findmnt -n /stdb || echo unmounted")).toBe("unmounted");
        for (const unit of ["spacetimedb.service", "caddy.service"]) {
            await waitFor(`${unit} to give up`, 60_000, async () => ((await unitProps(host, unit, "AssertResult")).AssertResult === "no" ? true : undefined));
            expect((await unitProps(host, unit, "ActiveState")).ActiveState, unit).not.toBe("active");
        }
        // Nothing was written where the volume should be: no fresh database, no new keys, no ACME account.
        expect(await sh(host, "ls -A /stdb")).toBe("");
        await host.attach(drill.rendered.volumeId);
        await host.reboot();
        await serverActive(host);
        await pingThroughFront();
        expect(await sh(host, "sha256sum < /stdb/config/id_ecdsa.pub")).toBe(firstKeySha);
        expect(await deployedRows()).toBe(rowsBefore);
    });

    it("replacement: a new host waits for the volume's attachment, then keeps its data (no reformat), same keys, token still accepted", async () => {
        await drill.remove(host);
        host = await drill.boot("host2", data, "i-00000000000000002", { attachLater: true });
        // The new host boots first; the volume moves over afterwards. The bootstrap must wait for it.
        await waitFor("the bootstrap to start", 180_000, async () =>
            (await sh(host, "cat /var/log/cloud-init-output.log 2>/dev/null || true")).includes("[iu-bootstrap] starting") ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 8000));
        const waiting = await sh(host, "cat /var/log/cloud-init-output.log");
        expect(waiting).not.toMatch(/keeping its data|formatting|FATAL/);
        expect(await sh(host, "findmnt -n /stdb || echo unmounted")).toBe("unmounted");
        await host.attach(drill.rendered.volumeId);
        const r = await bootstrapped(host, "done");
        expect(r.log).toContain("already holds xfs: keeping its data");
        expect(r.log).toContain("/stdb already fills its volume");
        expect(r.log).not.toContain("formatting");
        await pingThroughFront();
        expect(await sh(host, "blkid -p -o value -s UUID /dev/nvme1n1")).toBe(firstUuid);
        expect(await sh(host, "sha256sum < /stdb/config/id_ecdsa.pub")).toBe(firstKeySha);
        expect(await tokenAccepted()).toBe(200);
        expect(await deployedRows()).toBe(rowsBefore);
    });

    it("growth in place: the volume grows under the running host, the SSM command grows /stdb (no reformat), rows intact", async () => {
        const size = async () => Number(await sh(host, "df -B1 --output=size /stdb | tail -n1"));
        const before = await size();
        await drill.grow(data, VOLUME_MIB * 2);
        // What FilesystemGrowth sends through SSM, run on the host (the SSM agent's stand-in is this shell).
        const reported = Number(await sh(host, growCommand("/stdb")));
        expect(reported).toBe(await size());
        expect(reported).toBeGreaterThan(before * 1.8);
        expect(await sh(host, "blkid -p -o value -s UUID /dev/nvme1n1")).toBe(firstUuid);
        expect((await unitProps(host, "spacetimedb.service", "ActiveState")).ActiveState).toBe("active");
        expect(await tokenAccepted()).toBe(200);
        expect(await deployedRows()).toBe(rowsBefore);
    });

    it("restore: a copy of the volume file taken while the server runs recovers on a fresh host, rows intact; a larger copy is grown on boot", async () => {
        expect((await unitProps(host, "spacetimedb.service", "ActiveState")).ActiveState).toBe("active");
        // The copy is a larger volume than its source (a restore into a bigger size_gb): the bootstrap grows XFS to it.
        const copy = await drill.volume("restore", async (f) => {
            fs.rmSync(f);
            await exec("cp", ["--sparse=always", data.file, f]);
            await exec("truncate", ["-s", `${VOLUME_MIB * 3}M`, f]);
        });
        // One kernel serves every container and XFS refuses a second mount of the same UUID: the
        // original host goes first (on AWS the restored volume sits on another instance).
        await drill.remove(host);
        host = await drill.boot("restored", copy, "i-00000000000000005");
        const r = await bootstrapped(host, "done");
        expect(r.log).toContain("already holds xfs: keeping its data");
        expect(r.log).toMatch(/grew \/stdb from \d+ to \d+ bytes/);
        await pingThroughFront();
        expect(await sh(host, "sha256sum < /stdb/config/id_ecdsa.pub")).toBe(firstKeySha);
        expect(await tokenAccepted()).toBe(200);
        expect(await deployedRows()).toBe(rowsBefore);
        await drill.remove(host);
    });
});

describe("the bootstrap refuses volumes it must not format, and leaves every byte as it was", () => {
    const cases: [string, (file: string) => Promise<void>, string][] = [
        [
            "a volume holding another filesystem (ext4)",
            async (f) => void (await exec("mkfs.ext4", ["-q", "-F", f], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } })),
            "holds ext4, expected xfs; refusing to reformat data",
        ],
        [
            "a non-blank volume with no filesystem signature",
            async (f) => {
                const fd = fs.openSync(f, "r+");
                fs.writeSync(fd, Buffer.from("commitlog bytes that no blkid probe knows"), 0, undefined, 4096);
                fs.closeSync(fd);
            },
            "has no filesystem signature but is not blank; refusing to format it",
        ],
    ];
    it.each(cases)("%s", async (label, init, message) => {
        const name = label.includes("ext4") ? "ext4" : "nosig";
        const v = await drill.volume(name, init);
        const before = await sha256OfFile(v.file);
        const h = await drill.boot(`refuse-${name}`, v, `i-0000000000000000${name === "ext4" ? 3 : 4}`);
        const r = await bootstrapped(h, "refused");
        expect(r.log).toContain(message);
        expect((await unitProps(h, "spacetimedb.service", "ActiveState")).ActiveState).toBe("inactive");
        expect(await sh(h, "findmnt -n /stdb || echo unmounted")).toBe("unmounted");
        await drill.remove(h);
        await drill.detach(v);
        expect(await sha256OfFile(v.file)).toBe(before);
    });
});
