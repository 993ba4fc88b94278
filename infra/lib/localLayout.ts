import * as path from "node:path";

/**
 * Where a local stack keeps its daemons, in one place: the program (which hands each path to the
 * ctl scripts as IU_* variables: the scripts never derive a file name), config's default root dir,
 * `status`, preflight and the ephemeral runner's leak check.
 */
export function stackLayout(stackDir: string): { rootDir: string; proxyDir: string } {
    return { rootDir: path.join(stackDir, "stdb"), proxyDir: path.join(stackDir, "caddy") };
}

/** Where Caddy keeps its internal CA's root certificate, under its XDG_DATA_HOME. */
export function caddyCaRoot(xdgDataHome: string): string {
    return path.join(xdgDataHome, "caddy", "pki", "authorities", "local", "root.crt");
}

/**
 * A daemon's pid, log and fingerprint files sit beside its state directory, not in it: the
 * directory holds only what must survive the process (data, keys, CA), and deleting the
 * directory's resource removes these with it.
 */
export interface DaemonFiles {
    pid: string;
    log: string;
    /** What the running process was started with; another fingerprint restarts it. */
    fingerprint: string;
}

export function daemonFiles(stateDir: string): DaemonFiles {
    return { pid: `${stateDir}.pid`, log: `${stateDir}.log`, fingerprint: `${stateDir}.fingerprint` };
}

/** The root's size at each `status` run (ops/status/growth.ts), beside it; removed with it (scripts/state-dir.sh). */
export const usageFile = (rootDir: string) => `${rootDir}.usage`;

/**
 * Where a local stack's commitlog archive goes (point-in-time recovery): beside the backups, never
 * inside the root (a backup would copy it, a restore move it aside). One subdir per replica id.
 */
export const archiveDirOf = (stateDir: string, stack: string) => path.join(stateDir, "archive", stack);
