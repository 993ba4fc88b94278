import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { openStack, PROJECT_ROOT as ROOT, writeProjectFile } from "./engine";

/**
 * A throw-away place to run the real engine: its own file backend, its own Pulumi.yaml work dir
 * (so no Pulumi.<stack>.yaml lands in the repo), its own state dir and free ports.
 */
export interface TempWorkspace {
    dir: string;
    workDir: string;
    backendUrl: string;
    stateDir: string;
    cleanup(): void;
}

export function tempWorkspace(prefix: string): TempWorkspace {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `iu-${prefix}-`));
    const workDir = path.join(dir, "project");
    const backend = path.join(dir, "backend");
    const stateDir = path.join(dir, "state");
    for (const d of [workDir, backend, stateDir]) fs.mkdirSync(d, { recursive: true });
    writeProjectFile(workDir);
    return { dir, workDir, backendUrl: `file://${backend}`, stateDir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address() as net.AddressInfo;
            srv.close(() => resolve(port));
        });
    });
}

/** Whether anything accepts TCP connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const sock = net.connect({ host: "127.0.0.1", port });
        sock.once("connect", () => {
            sock.destroy();
            resolve(true);
        });
        sock.once("error", () => resolve(false));
    });
}

export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

export async function tempStack(ws: TempWorkspace, stack: string, config: Record<string, unknown>, program?: () => Promise<Record<string, unknown>>) {
    return openStack({ stack, workDir: ws.workDir, backendUrl: ws.backendUrl, config, ...(program ? { program } : {}) });
}

/** Copies the module crate (without build output) so a test can edit it. */
export function copyModule(dest: string): string {
    fs.cpSync(path.join(ROOT, "module"), dest, { recursive: true, filter: (src) => !src.includes(`${path.sep}target`) });
    return dest;
}

export const SHARED_WASM_TARGET = path.join(ROOT, ".iu", "wasm-target");
