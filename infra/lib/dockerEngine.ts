// The Docker Engine API on its unix socket, and the volume plumbing built on it: what the
// container backups (ops/backup/container.ts) and the container upgrade gate
// (infra/spacetimedb/containerUpgrade-impl.ts) drive, and what @pulumi/docker's provider talks to.
// Erasable TypeScript, Node built-ins only (the dynamic-provider process loads it too).

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The Docker Engine API on its unix socket (DOCKER_SOCKET, default /var/run/docker.sock): what the
 * container backups drive and what @pulumi/docker's provider talks to (the e2e suite hands the
 * program's container spec to the daemon through it). Answers are parsed as JSON when they are.
 */
const SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";

export function docker<T = any>(method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
    return new Promise((resolve, reject) => {
        const req = http.request({ socketPath: SOCKET, path: `/v1.41${route}`, method, headers: { "Content-Type": "application/json" } }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                let json: any = text;
                try {
                    json = text ? JSON.parse(text) : {};
                } catch {
                    /* a plain-text answer */
                }
                resolve({ status: res.statusCode ?? 0, json });
            });
        });
        req.on("error", reject);
        if (body !== undefined) req.write(JSON.stringify(body));
        req.end();
    });
}

export async function expectStatus(what: string, p: Promise<{ status: number; json: any }>, ok: number[]): Promise<any> {
    const r = await p;
    if (!ok.includes(r.status)) throw new Error(`${what}: Docker answered ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
}

/** Runs `/bin/sh -c script` as root in a throw-away container of `image` with the given mounts; throws with its output on failure. */
export async function helper(image: string, script: string, mounts: { Type: "volume" | "bind"; Source: string; Target: string; ReadOnly?: boolean }[]): Promise<void> {
    const name = `iu-backup-helper-${process.pid}-${Date.now()}`;
    const created = await expectStatus(
        "create helper container",
        docker("POST", `/containers/create?name=${name}`, {
            Image: image,
            Entrypoint: ["/bin/sh", "-c"],
            Cmd: [script],
            User: "0:0",
            Labels: { "inner-universe.role": "backup-helper" },
            HostConfig: { Mounts: mounts, NetworkMode: "none" },
        }),
        [201],
    );
    const id = created.Id as string;
    try {
        await expectStatus("start helper", docker("POST", `/containers/${id}/start`), [204]);
        const waited = await expectStatus("wait for helper", docker("POST", `/containers/${id}/wait`), [200]);
        if (waited.StatusCode !== 0) {
            const logs = await docker("GET", `/containers/${id}/logs?stdout=1&stderr=1`);
            throw new Error(`helper (${script}) exited ${waited.StatusCode}: ${printable(String(logs.json))}`);
        }
    } finally {
        await docker("DELETE", `/containers/${id}?force=true`);
    }
}

export function untar(tarFile: string, dest: string): void {
    fs.mkdirSync(dest, { recursive: true });
    const r = spawnSync("tar", ["-xpf", tarFile, "--numeric-owner", "-C", dest], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`tar -x ${tarFile}: ${r.stderr}`);
    fs.rmSync(tarFile);
}

/** The volume's tree, read back through a helper into a temporary directory. */
export async function readVolume(image: string, volume: string, dest: string): Promise<void> {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "iu-vol-"));
    try {
        await helper(image, "tar -C /stdb -cf /out/root.tar .", [
            { Type: "volume", Source: volume, Target: "/stdb", ReadOnly: true },
            { Type: "bind", Source: out, Target: "/out" },
        ]);
        untar(path.join(out, "root.tar"), dest);
    } finally {
        fs.rmSync(out, { recursive: true, force: true });
    }
}

/** Docker's log stream frames each chunk with an 8-byte binary header: keep the text. */
export const printable = (s: string) =>
    [...s]
        .filter((ch) => ch >= " " || ch === "\n")
        .join("")
        .trim();

export const stopContainer = (c: string) => expectStatus(`stop ${c}`, docker("POST", `/containers/${c}/stop?t=30`), [204, 304]);
export const startContainer = (c: string) => expectStatus(`start ${c}`, docker("POST", `/containers/${c}/start`), [204, 304]);
