import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { standaloneStartArgs } from "../../infra/facts";
import { freePort } from "../../ops/ports";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";
import { standaloneBinary } from "../support/standalone";

/**
 * scripts/server-ctl.sh against a stand-in server (a bash script named like the real one that
 * serves /v1/ping and records the signal that stops it). The real server is exercised by the e2e
 * suite; this pins the process handling: detach, SIGINT on stop, restart only on a new fingerprint.
 */
let dir: string;
let port: number;
let env: Record<string, string>;

const FAKE = `#!/usr/bin/env bash
if [[ $1 == --version ]]; then echo "spacetimedb tool version 1.2.0; spacetimedb-lib version 1.2.0;"; exit 0; fi
echo "$*" >> "$IU_ARGS_LOG"
while [[ $# -gt 0 ]]; do [[ $1 == --listen-addr ]] && listen=$2; [[ $1 == --jwt-priv-key-path ]] && key=$2; shift; done
# Like 1.2: a missing keypair is generated with the process's default permissions.
[[ -f $key ]] || echo "PRIVATE KEY" > "$key"
www=$(mktemp -d); mkdir -p "$www/v1"; touch "$www/v1/ping"
python3 -m http.server --bind "\${listen%:*}" "\${listen#*:}" --directory "$www" >/dev/null 2>&1 &
child=$!
trap 'echo INT >> "$IU_SIGNAL_LOG"; kill $child; exit 0' INT
trap 'echo TERM >> "$IU_SIGNAL_LOG"; kill $child; exit 0' TERM
wait $child
`;

const ctl = (action: string, extra: Record<string, string> = {}) =>
    spawnSync("bash", [path.join(ROOT, "scripts", "server-ctl.sh"), action], { env: { ...process.env, ...env, ...extra }, encoding: "utf8", timeout: 60_000 });
const pid = () => Number(fs.readFileSync(env.IU_PID_FILE!, "utf8"));
const alive = (p: number) => {
    try {
        process.kill(p, 0);
        return true;
    } catch {
        return false;
    }
};

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "server-ctl-"));
    const bin = path.join(dir, "bin", "spacetimedb-standalone");
    fs.mkdirSync(path.dirname(bin));
    fs.writeFileSync(bin, FAKE, { mode: 0o755 });
    port = await freePort();
    env = {
        IU_SERVER_BIN: bin,
        IU_SERVER_VERSION: "1.2.0",
        IU_ROOT_DIR: path.join(dir, "stdb"),
        IU_LISTEN: `127.0.0.1:${port}`,
        IU_READY_TIMEOUT: "20",
        IU_IN_MEMORY: "0",
        IU_LOG_LEVEL: "info",
        IU_SIGNAL_LOG: path.join(dir, "signals"),
        IU_ARGS_LOG: path.join(dir, "args"),
        IU_PID_FILE: path.join(dir, "stdb.pid"),
        IU_LOG_FILE: path.join(dir, "stdb.log"),
        IU_FINGERPRINT_FILE: path.join(dir, "stdb.fingerprint"),
    };
});

afterAll(() => {
    ctl("stop");
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("server-ctl.sh", () => {
    it("start keeps the root, the signing key and everything the server writes its owner's alone", () => {
        const root = env.IU_ROOT_DIR!;
        // A root an earlier version left open: 0755 directories, a 0644 key.
        fs.mkdirSync(path.join(root, "config"), { recursive: true, mode: 0o755 });
        fs.chmodSync(root, 0o755);
        fs.writeFileSync(path.join(root, "config", "id_ecdsa.pub"), "PUBLIC KEY", { mode: 0o644 });
        const r = ctl("start");
        expect(r.status, r.stderr).toBe(0);
        const mode = (f: string) => fs.statSync(path.join(root, f)).mode & 0o777;
        expect(mode(".")).toBe(0o700);
        expect(mode("config")).toBe(0o700);
        expect(mode("config/id_ecdsa.pub")).toBe(0o600);
        // Written by the server after the start: the umask it runs under.
        expect(mode("config/id_ecdsa")).toBe(0o600);
        expect(ctl("stop").status).toBe(0);
        fs.rmSync(env.IU_SIGNAL_LOG!, { force: true });
    });

    it("start detaches the server, waits for /v1/ping and reports its pid", () => {
        const r = ctl("start");
        expect(r.status, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
        expect(out).toMatchObject({ pid: pid(), url: `http://127.0.0.1:${port}`, started: true });
        expect(ctl("status").status).toBe(0);
        // The launch line is the one every runtime uses (infra/facts.ts), then the listen address.
        const launched = fs.readFileSync(env.IU_ARGS_LOG!, "utf8").trim().split("\n").pop();
        expect(launched).toBe([...standaloneStartArgs(env.IU_ROOT_DIR!), "--listen-addr", env.IU_LISTEN].join(" "));
        expect(fs.statSync(path.join(env.IU_ROOT_DIR!, "config")).mode & 0o777).toBe(0o700);
    });

    it("a second start with the same settings keeps the running process", () => {
        const before = pid();
        const r = ctl("start");
        expect(JSON.parse(r.stdout.trim())).toMatchObject({ pid: before, started: false });
    });

    it("a changed setting restarts it, stopping the old one with SIGINT", () => {
        const before = pid();
        const r = ctl("start", { IU_IN_MEMORY: "1" });
        expect(r.status, r.stderr).toBe(0);
        expect(pid()).not.toBe(before);
        expect(alive(before)).toBe(false);
        expect(fs.readFileSync(env.IU_SIGNAL_LOG!, "utf8").trim()).toBe("INT");
        expect(fs.readFileSync(env.IU_ARGS_LOG!, "utf8").trim().split("\n").pop()).toContain("--in-memory");
    });

    it("stop sends SIGINT (not SIGTERM) and removes the pid file; status then fails", () => {
        const p = pid();
        expect(ctl("stop", { IU_IN_MEMORY: "1" }).status).toBe(0);
        expect(alive(p)).toBe(false);
        expect(fs.readFileSync(env.IU_SIGNAL_LOG!, "utf8").trim().split("\n")).toEqual(["INT", "INT"]);
        expect(fs.existsSync(env.IU_PID_FILE!)).toBe(false);
        expect(ctl("status").status).not.toBe(0);
    });

    it("start and status demand the file paths the program hands over (they never name one)", () => {
        for (const action of ["start", "status"]) {
            const r = ctl(action, { IU_PID_FILE: "" });
            expect(r.status).not.toBe(0);
            expect(r.stderr).toContain("IU_PID_FILE is required");
        }
    });

    it("a stack deployed before the paths were handed over: destroy, with the environment its state holds, stops the server and removes its files", () => {
        expect(ctl("start").status).toBe(0);
        const p = pid();
        const stored = { IU_PID_FILE: "", IU_LOG_FILE: "", IU_FINGERPRINT_FILE: "" };
        expect(ctl("stop", stored).status).toBe(0);
        expect(alive(p)).toBe(false);
        const del = spawnSync("bash", [path.join(ROOT, "scripts", "state-dir.sh"), "delete"], {
            env: { ...process.env, IU_DIR: env.IU_ROOT_DIR!, IU_DELETE_ON_DESTROY: "1", ...stored },
            encoding: "utf8",
        });
        expect(del.status, del.stderr).toBe(0);
        for (const f of [env.IU_ROOT_DIR!, env.IU_PID_FILE!, env.IU_LOG_FILE!, env.IU_FINGERPRINT_FILE!]) expect(fs.existsSync(f), f).toBe(false);
    });

    it("refuses a binary of another version, naming both", () => {
        const r = ctl("start", { IU_SERVER_VERSION: "2.0.0" });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/is not SpacetimeDB 2\.0\.0: spacetimedb tool version 1\.2\.0/);
    });

    it("a changed spacetimedb.version never leaves the old server running under the new name: refused, the running one untouched", () => {
        expect(ctl("start").status).toBe(0);
        const p = pid();
        const r = ctl("start", { IU_SERVER_VERSION: "1.3.0" });
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("is not SpacetimeDB 1.3.0");
        expect(pid()).toBe(p);
        expect(alive(p)).toBe(true);
    });

    it("a downgrade is refused before anything stops: the running server keeps serving and every byte of the root is unchanged", () => {
        const root = env.IU_ROOT_DIR!;
        fs.mkdirSync(path.join(root, "data"), { recursive: true });
        fs.writeFileSync(path.join(root, "data", "metadata.toml"), '# THIS FILE IS GENERATED BY SPACETIMEDB, DO NOT MODIFY!\n\nversion = "1.3.0"\nedition = "standalone"\n');
        const p = pid();
        const before = treeHash(root);
        // A changed setting would restart the server: the refusal comes first.
        const r = ctl("start", { IU_LOG_LEVEL: "debug" });
        expect(r.status).toBe(1);
        expect(r.stderr).toContain(`refusing a downgrade: the server root ${root} was last run by SpacetimeDB 1.3.0`);
        expect(r.stderr).toContain("backup restore --stack STACK --id ID");
        expect(pid()).toBe(p);
        expect(alive(p)).toBe(true);
        expect(ctl("status").status).toBe(0);
        expect(treeHash(root)).toBe(before);
        // The same root on its own version (or a newer one) starts as before.
        fs.writeFileSync(path.join(root, "data", "metadata.toml"), 'version = "1.2.0"\nedition = "standalone"\n');
        expect(ctl("start", { IU_LOG_LEVEL: "debug" }).status).toBe(0);
        expect(ctl("stop").status).toBe(0);
    });

    it("the real spacetimedb-standalone: a root a newer server wrote is refused by the step, not half-started", () => {
        const root = path.join(dir, "real-root");
        fs.mkdirSync(path.join(root, "data"), { recursive: true });
        fs.writeFileSync(path.join(root, "data", "metadata.toml"), 'version = "1.3.0"\nedition = "standalone"\n');
        const before = treeHash(root);
        const r = ctl("start", { IU_SERVER_BIN: standaloneBinary(), IU_ROOT_DIR: root, IU_PID_FILE: `${root}.pid`, IU_LOG_FILE: `${root}.log`, IU_FINGERPRINT_FILE: `${root}.fp` });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/refusing a downgrade: .* last run by SpacetimeDB 1\.3\.0 and .*spacetimedb-standalone is 1\.2\.0/);
        expect(fs.existsSync(`${root}.pid`)).toBe(false);
        expect(treeHash(root)).toBe(before);
    });
});

/** sha256 over every path, mode and content under root: "every byte unchanged". */
function treeHash(root: string): string {
    const h = createHash("sha256");
    const visit = (rel: string) => {
        for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
            const r = path.join(rel, name);
            const st = fs.lstatSync(path.join(root, r));
            h.update(`${r}\0${st.mode}\0`);
            if (st.isDirectory()) visit(r);
            else if (st.isFile()) h.update(fs.readFileSync(path.join(root, r)));
        }
    };
    visit("");
    return h.digest("hex");
}
