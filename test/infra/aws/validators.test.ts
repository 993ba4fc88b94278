import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderBootstrap } from "../../../infra/aws/render/bootstrap";
import { hostFiles, renderUserData } from "../../../infra/aws/render/cloudInit";
import { BOOTSTRAP_PATH, CADDY_BIN, CADDYFILE_PATH, SOCKET_PROXYD } from "../../../infra/aws/render/constants";
import { specs, VOLUME_ID } from "../../support/awsSpecs";
import { run, tempDir, write } from "../../support/validators";

/**
 * The real validators, run by the suite on what the program renders: cloud-init, systemd,
 * Caddy and shellcheck from Debian packages. A missing tool fails loudly (support/tools.ts).
 */
const dirs: string[] = [];
const scratch = (label: string) => {
    const d = tempDir(label);
    dirs.push(d);
    return d;
};
afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const SPECS = Object.keys(specs);

describe("cloud-init schema --config-file", () => {
    it.each(SPECS)("%s user data is valid cloud-config", (name) => {
        const file = write(scratch("ud"), "user-data.yaml", renderUserData(specs[name]!));
        const r = run("cloud-init", ["schema", "--config-file", file]);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain("Valid cloud-config");
    });

    it("rejects a broken document (the validator really validates)", () => {
        const file = write(scratch("ud"), "bad.yaml", "#cloud-config\nwrite_files:\n- path: 5\n  bogus: 1\n");
        expect(run("cloud-init", ["schema", "--config-file", file]).status).not.toBe(0);
    });
});

/** Executables the units start, and who puts them there on the host. */
const EXECUTABLES: Record<string, string> = {
    "/stdb/bin/1.2.0/spacetimedb-standalone": "bootstrap: pinned release unpacked into $MOUNT_POINT/bin/$STDB_VERSION",
    "/usr/local/bin/spacetime": "bootstrap: link to $MOUNT_POINT/bin/current/spacetimedb-cli",
    [CADDY_BIN]: "bootstrap: pinned Caddy release",
    [SOCKET_PROXYD]: "systemd package (the bootstrap checks it)",
};

function verifyUnits(files: { path: string; content: string }[]): { status: number; output: string; units: string[] } {
    const root = scratch("sd");
    // The stock units (targets, sockets) come from this machine's systemd.
    fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    const units = files.filter((f) => f.path.startsWith("/etc/systemd/system/"));
    for (const f of units) write(root, f.path, f.content);
    for (const f of units) {
        for (const m of f.content.matchAll(/^Exec\w+=[-@:+!]*(\/\S+)/gm)) {
            const exe = m[1]!;
            expect(EXECUTABLES, `${f.path} runs ${exe}; who installs it?`).toHaveProperty([exe]);
            write(root, exe, "#!/bin/sh\n", 0o755);
        }
    }
    const r = run("systemd-analyze", ["verify", `--root=${root}`, ...units.map((f) => f.path)]);
    return { status: r.status, output: r.stdout + r.stderr, units: units.map((f) => f.path) };
}

describe("systemd-analyze verify", () => {
    it.each(SPECS)("%s units verify cleanly (no errors, no warnings)", (name) => {
        const r = verifyUnits(hostFiles(specs[name]!));
        expect(r.units.length).toBeGreaterThanOrEqual(name === "alb" ? 3 : 2);
        expect(r.status, r.output).toBe(0);
        expect(r.output.trim()).toBe("");
    });

    it("reports a broken unit (the validator really validates)", () => {
        const r = verifyUnits([{ path: "/etc/systemd/system/broken.service", content: "[Service]\nExecStart=relative/path\nKillSignal=SIGNOPE\n" }]);
        expect(r.status !== 0 || r.output !== "").toBe(true);
    });
});

describe("caddy validate --adapter caddyfile", () => {
    const validate = (caddyfile: string) => {
        const dir = scratch("caddy");
        const file = write(dir, "Caddyfile", caddyfile);
        return run("caddy", ["validate", "--config", file, "--adapter", "caddyfile"], {
            env: { HOME: dir, XDG_DATA_HOME: path.join(dir, "data"), XDG_CONFIG_HOME: path.join(dir, "config") },
        });
    };
    it("the prod (acme) Caddyfile is valid", () => {
        const caddyfile = hostFiles(specs.acme!).find((f) => f.path === CADDYFILE_PATH)!.content;
        const r = validate(caddyfile);
        expect(r.status, r.stdout + r.stderr).toBe(0);
        expect(r.stdout + r.stderr).toContain("Valid configuration");
    });
    it("rejects a bad deploy CIDR (the validator really validates)", () => {
        const caddyfile = hostFiles(specs.acme!)
            .find((f) => f.path === CADDYFILE_PATH)!
            .content.replace("remote_ip 203.0.113.0/28", "remote_ip 203.0.113.0/99");
        expect(validate(caddyfile).status).not.toBe(0);
    });
});

describe("shellcheck", () => {
    it.each(SPECS)("%s bootstrap passes shellcheck (all severities)", (name) => {
        const script = hostFiles(specs[name]!).find((f) => f.path === BOOTSTRAP_PATH)!.content;
        const file = write(scratch("sc"), "iu-bootstrap", script, 0o755);
        const r = run("shellcheck", ["--shell=bash", "--severity=style", file]);
        expect(r.status, r.stdout + r.stderr).toBe(0);
    });
    it("flags an unquoted expansion (the validator really validates)", () => {
        const file = write(scratch("sc"), "bad.sh", "#!/bin/bash\nrm -rf $1/data\n");
        expect(run("shellcheck", ["--shell=bash", file]).status).not.toBe(0);
    });
});

describe("bootstrap data safety, run for real on image files", () => {
    const script = renderBootstrap({
        volumeId: VOLUME_ID,
        rootDir: "/stdb",
        server: specs.acme!.server,
        front: { mode: "alb" },
        cwAgentParameter: "AmazonCloudWatch-x",
        deviceTimeoutS: 0,
    });
    const dir = scratch("fs");
    const bootstrap = write(dir, "iu-bootstrap", script, 0o755);
    const call = (body: string) => run("bash", ["-c", `source ${bootstrap}\n${body}`]);
    const image = (name: string, init: (p: string) => void) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, "");
        fs.truncateSync(p, 320 * 1024 * 1024);
        init(p);
        return p;
    };
    const fsOf = (p: string) => run("blkid", ["-p", "-o", "value", "-s", "TYPE", p]).stdout.trim();
    const uuidOf = (p: string) => run("blkid", ["-p", "-o", "value", "-s", "UUID", p]).stdout.trim();

    it("formats a blank volume, then keeps it (same filesystem UUID) on every later run", () => {
        const img = image("blank.img", () => undefined);
        const first = call(`prepare_filesystem ${img}`);
        expect(first.status, first.stderr).toBe(0);
        expect(first.stderr).toContain("formatting blank volume");
        expect(fsOf(img)).toBe("xfs");
        const uuid = uuidOf(img);
        const again = call(`prepare_filesystem ${img}`);
        expect(again.status, again.stderr).toBe(0);
        expect(again.stderr).toContain("already holds xfs: keeping its data");
        expect(uuidOf(img)).toBe(uuid);
    });

    it("refuses to reformat a volume holding another filesystem", () => {
        const img = image("ext4.img", (p) => expect(run("mkfs.ext4", ["-q", "-F", p]).status).toBe(0));
        const r = call(`prepare_filesystem ${img}`);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("holds ext4, expected xfs; refusing to reformat data");
        expect(fsOf(img)).toBe("ext4");
    });

    it("refuses to format a volume with data but no recognisable signature", () => {
        const img = image("data.img", (p) => {
            const fd = fs.openSync(p, "r+");
            fs.writeSync(fd, Buffer.from("commitlog bytes that no blkid probe knows"), 0, undefined, 4096);
            fs.closeSync(fd);
        });
        const r = call(`prepare_filesystem ${img}`);
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("not blank; refusing to format it");
        expect(fsOf(img)).toBe("");
    });

    it("fails when the volume never appears instead of using another disk", () => {
        const r = call("data_device");
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain(`data volume ${VOLUME_ID} not attached after 0s`);
    });

    it("refuses a release whose sha256 differs from the pinned one", () => {
        const fake = `curl() { local out=""; while (($#)); do [[ $1 == -o ]] && out=$2; shift; done; printf 'tampered' >"$out"; }`;
        const bad = call(`${fake}\nfetch_verified https://example.com/a.tar.gz ${"0".repeat(64)} ${dir}/a.tar.gz`);
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toContain("sha256 mismatch for https://example.com/a.tar.gz");
        const good = call(`${fake}\nfetch_verified https://example.com/a.tar.gz $(printf tampered | sha256sum | cut -d' ' -f1) ${dir}/b.tar.gz`);
        expect(good.status, good.stderr).toBe(0);
    });
});
