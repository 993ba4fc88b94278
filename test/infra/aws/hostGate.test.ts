import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeTree } from "../../../infra/backup/manifest";

/**
 * The host's half of the upgrade gate (infra/aws/render/bootstrap.sh start_server), run by bash
 * on a scratch "volume" with stand-ins for systemd and the server: the stand-in systemctl records
 * each call and, like a real start, writes the version it runs into data/metadata.toml. The
 * production host drill runs the same script under a real systemd.
 */
const BOOTSTRAP = path.resolve("infra/aws/render/bootstrap.sh");
let tmp: string;
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Volume {
    mount: string;
    units: string;
    calls: string;
}

function volume(rootVersion: string | undefined, binaries: string[]): Volume {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-hostgate-"));
    const mount = path.join(tmp, "stdb");
    const units = path.join(tmp, "units");
    for (const d of ["data/replicas/1/clog", "config", ...binaries.map((v) => `bin/${v}`)]) fs.mkdirSync(path.join(mount, d), { recursive: true });
    for (const v of binaries) fs.writeFileSync(path.join(mount, "bin", v, "spacetimedb-standalone"), "#!/bin/sh\n", { mode: 0o755 });
    if (rootVersion) fs.writeFileSync(path.join(mount, "data", "metadata.toml"), `version = "${rootVersion}"\nedition = "standalone"\n`);
    fs.writeFileSync(path.join(mount, "data", "replicas", "1", "clog", "00000000000000000000.stdb.log"), "commits written on the old version");
    fs.writeFileSync(path.join(mount, "config", "id_ecdsa"), "signing key", { mode: 0o600 });
    fs.mkdirSync(units);
    fs.writeFileSync(path.join(units, "spacetimedb.service"), `[Service]\nExecStart=${mount}/bin/1.2.0/spacetimedb-standalone start --data-dir ${mount}/data\n`);
    return { mount, units, calls: path.join(tmp, "calls") };
}

/** start_server with STDB_VERSION `target`; `failOn`: the version whose start never answers /v1/ping. */
function startServer(v: Volume, target: string, o: { failOn?: string; avail?: number } = {}) {
    const script = `
        set -euo pipefail
        MOUNT_POINT=${v.mount}; STDB_VERSION=${target}; SERVER_UNIT=spacetimedb.service; UNIT_DIR=${v.units}; STDB_PORT=3000; READY_RETRIES=1
        source ${BOOTSTRAP}
        running() { local f=$UNIT_DIR/$SERVER_UNIT.d/50-version.conf; if [[ -f $f ]]; then sed -n 's#^ExecStart=.*/bin/\\([^/]*\\)/.*#\\1#p' "$f"; else echo "$STDB_VERSION"; fi; }
        systemctl() {
            echo "systemctl $*" >>${v.calls}
            case "$*" in
            "enable --now"* | start* | restart*) printf 'version = "%s"\\n' "$(running)" >"$MOUNT_POINT/data/metadata.toml"; running >${tmp}/running ;;
            stop*) rm -f ${tmp}/running ;;
            esac
        }
        server_answers() { [[ -f ${tmp}/running && $(<${tmp}/running) != "${o.failOn ?? "none"}" ]]; }
        ${o.avail !== undefined ? `df() { printf 'Avail\\n%s\\n' ${o.avail}; }` : ""}
        start_server
    `;
    const r = spawnSync("bash", ["-c", script], { encoding: "utf8" });
    const calls = fs.existsSync(v.calls) ? fs.readFileSync(v.calls, "utf8").trim().split("\n") : [];
    const running = fs.existsSync(path.join(tmp, "running")) ? fs.readFileSync(path.join(tmp, "running"), "utf8").trim() : undefined;
    return { code: r.status, said: r.stderr, calls, running };
}

const versionOf = (root: string) => fs.readFileSync(path.join(root, "data", "metadata.toml"), "utf8").match(/"(.*)"/)?.[1];

describe("host upgrade gate (bootstrap.sh start_server)", () => {
    it("refuses a downgrade before anything starts, every byte of the volume unchanged", () => {
        const v = volume("1.2.0", ["1.1.1", "1.2.0"]);
        const before = describeTree(v.mount);
        const r = startServer(v, "1.1.1");
        expect(r.code).toBe(1);
        expect(r.said).toContain("refusing a downgrade: " + v.mount + " was last run by SpacetimeDB 1.2.0 and this host runs 1.1.1; nothing was started");
        expect(r.said).toContain("aws.data_volume.snapshot_id");
        expect(r.calls).toEqual([]);
        expect(describeTree(v.mount)).toEqual(before);
    });

    it("starts a new root, or one on the same version, with no copy", () => {
        for (const root of [undefined, "1.2.0"]) {
            const v = volume(root, ["1.2.0"]);
            const r = startServer(v, "1.2.0");
            expect(r.code, r.said).toBe(0);
            expect(r.calls).toEqual(["systemctl enable --now spacetimedb.service"]);
            expect(fs.existsSync(path.join(v.mount, "pre-upgrade"))).toBe(false);
            fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("upgrades: the root copied aside (as the old version left it) before the new server starts", () => {
        const v = volume("1.1.1", ["1.1.1", "1.2.0"]);
        const old = describeTree(path.join(v.mount, "data"));
        const r = startServer(v, "1.2.0");
        expect(r.code, r.said).toBe(0);
        expect(r.said).toContain(`upgrade 1.1.1 → 1.2.0: copying the root to ${v.mount}/pre-upgrade/1.1.1 before the new server touches it`);
        expect(r.calls).toEqual(["systemctl enable spacetimedb.service", "systemctl start spacetimedb.service"]);
        expect(r.running).toBe("1.2.0");
        expect(versionOf(v.mount)).toBe("1.2.0");
        expect(describeTree(path.join(v.mount, "pre-upgrade", "1.1.1", "data"))).toEqual(old);
        expect(fs.readFileSync(path.join(v.mount, "pre-upgrade", "1.1.1", "config", "id_ecdsa"), "utf8")).toBe("signing key");
    });

    it("rolls back a new server that fails readiness: stop, upgraded root kept, copy back, the old binary started — in that order", () => {
        const v = volume("1.1.1", ["1.1.1", "1.2.0"]);
        const old = describeTree(path.join(v.mount, "data"));
        const r = startServer(v, "1.2.0", { failOn: "1.2.0" });
        expect(r.code).toBe(1);
        expect(r.said).toMatch(
            /upgrade 1\.1\.1 → 1\.2\.0 failed: rolled back, SpacetimeDB 1\.1\.1 serves the pre-upgrade root again \(the upgraded root is kept at \S+\/failed-upgrade\/1\.2\.0-\d{8}T\d{6}Z\)/,
        );
        expect(r.calls).toEqual([
            "systemctl enable spacetimedb.service",
            "systemctl start spacetimedb.service",
            "systemctl stop spacetimedb.service",
            "systemctl daemon-reload",
            "systemctl restart spacetimedb.service",
        ]);
        expect(r.running).toBe("1.1.1");
        expect(fs.readFileSync(path.join(v.units, "spacetimedb.service.d", "50-version.conf"), "utf8")).toContain(
            `ExecStart=\nExecStart=${v.mount}/bin/1.1.1/spacetimedb-standalone start`,
        );
        // The data the old version serves is the copy (only metadata.toml rewritten by its start, to its own version).
        const now = describeTree(path.join(v.mount, "data")).files.filter((f) => f.path !== "metadata.toml");
        expect(now).toEqual(old.files.filter((f) => f.path !== "metadata.toml"));
        expect(versionOf(v.mount)).toBe("1.1.1");
        const failed = fs.readdirSync(path.join(v.mount, "failed-upgrade"));
        expect(failed).toHaveLength(1);
        expect(versionOf(path.join(v.mount, "failed-upgrade", failed[0]!))).toBe("1.2.0");
    });

    it("with no room for the copy, keeps the old version serving and says how to make room", () => {
        const v = volume("1.1.1", ["1.1.1", "1.2.0"]);
        const r = startServer(v, "1.2.0", { avail: 1000 });
        expect(r.code).toBe(1);
        expect(r.said).toContain("upgrade 1.1.1 → 1.2.0 not started: " + v.mount + " has 1000 bytes free");
        expect(r.said).toContain("Grow aws.data_volume.size_gb");
        expect(r.running).toBe("1.1.1");
        expect(versionOf(v.mount)).toBe("1.1.1");
        expect(fs.existsSync(path.join(v.mount, "pre-upgrade"))).toBe(false);
    });

    it("refuses an upgrade whose old binary is gone (there would be no way back), starting nothing", () => {
        const v = volume("1.1.1", ["1.2.0"]);
        const r = startServer(v, "1.2.0");
        expect(r.code).toBe(1);
        expect(r.said).toContain(`${v.mount}/bin/1.1.1 is gone, so there would be no way back; nothing was started`);
        expect(r.calls).toEqual([]);
    });
});
