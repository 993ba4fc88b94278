import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { PROJECT_ROOT as ROOT } from "./env";

/**
 * A port nothing listens on, taken from below the kernel's ephemeral range. `listen(0)` would hand
 * out a port from inside that range, and between our probe and the real bind (a wasm build can sit in
 * between) any outgoing connection may take it as its source port: CI saw Caddy fail with
 * "address already in use" that way. Random picks keep separate processes (vitest workers, the
 * ephemeral runner) apart; the set keeps one process from handing out a port twice.
 */
export async function freePort(): Promise<number> {
    const [low, high] = portWindow();
    for (let attempt = 0; attempt < 200; attempt++) {
        const port = low + Math.floor(Math.random() * (high - low + 1));
        if (handedOut.has(port)) continue;
        if (await bindable(port)) {
            handedOut.add(port);
            return port;
        }
    }
    throw new Error(`freePort: 200 random ports in ${low}–${high} were all taken`);
}

const handedOut = new Set<number>();

/** [low, high] of the ports to draw from: the 10 000 ports just below the ephemeral range. */
export function portWindow(rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"): [number, number] {
    let ephemeralLow = 32768;
    try {
        ephemeralLow = Number(fs.readFileSync(rangeFile, "utf8").trim().split(/\s+/)[0]) || ephemeralLow;
    } catch {
        // no procfs: assume the Linux default
    }
    if (ephemeralLow < 11024) throw new Error(`freePort: ephemeral ports start at ${ephemeralLow}; need at least 10 000 ports below it`);
    return [ephemeralLow - 10_000, ephemeralLow - 1];
}

function bindable(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.unref();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
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

export const SHARED_WASM_TARGET = path.join(ROOT, ".iu", "wasm-target");
