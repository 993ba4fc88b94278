import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PROJECT } from "../../infra/facts";
import { alive } from "../ports";

/**
 * The file backend's stack locks (`<backend>/.pulumi/locks/organization/<project>/<stack>/*.json`,
 * written by every update, preview, refresh and destroy; Pulumi refuses a second one and says
 * `pulumi cancel` clears a lock). A CLI killed halfway leaves its lock behind, and every later
 * deploy is refused. A lock is *stale* only when it was made on this machine by a process that
 * no longer runs: those are the ones the operator commands clear, saying so. Anyone else's lock
 * (another host, a live process) is left alone: Pulumi's refusal names it.
 */
export interface StackLock {
    file: string;
    pid: number;
    hostname: string;
    username: string;
    timestamp: string;
}

export function lockDir(backendUrl: string, stack: string): string | undefined {
    if (!backendUrl.startsWith("file://")) return undefined;
    const root = fileURLToPath(backendUrl.replace(/\?.*$/, ""));
    return path.join(root, ".pulumi", "locks", "organization", PROJECT, stack);
}

export function stackLocks(backendUrl: string, stack: string): StackLock[] {
    const dir = lockDir(backendUrl, stack);
    if (!dir || !fs.existsSync(dir)) return [];
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .flatMap((f) => {
            try {
                const j = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as Partial<StackLock>;
                return [
                    { file: path.join(dir, f), pid: Number(j.pid), hostname: String(j.hostname ?? ""), username: String(j.username ?? ""), timestamp: String(j.timestamp ?? "") },
                ];
            } catch {
                return [];
            }
        });
}

/** Made here by a process that is gone: nothing can be holding it. */
export const isStale = (l: StackLock, host = os.hostname(), isAlive: (pid: number) => boolean = alive) =>
    l.hostname === host && Number.isInteger(l.pid) && l.pid > 0 && !isAlive(l.pid);

/** Removes this stack's stale locks; returns a line per lock removed. */
export function clearStaleLocks(backendUrl: string, stack: string): string[] {
    const said: string[] = [];
    for (const l of stackLocks(backendUrl, stack).filter((x) => isStale(x))) {
        fs.rmSync(l.file, { force: true });
        said.push(
            `cleared a stale lock of stack ${stack}: ${l.file} was taken by pid ${l.pid} on ${l.hostname} at ${l.timestamp}, which is no longer running (a deploy killed halfway; what \`pulumi cancel\` does)`,
        );
    }
    return said;
}

/** The CLI's helper processes: they outlive a CLI killed with SIGKILL, orphaned (parent 1). */
const PLUGIN = /@pulumi\/pulumi\/cmd\/(run-policy-pack|dynamic-provider)\/|pulumi-language-nodejs|pulumi-resource-/;

/**
 * Stops the orphaned helpers of a deploy of this checkout that is gone (its lock was stale): the
 * policy pack, dynamic-provider and language-host processes whose parent is init and whose working
 * directory is in `projectDir`. A live deploy's helpers have the CLI as parent and are never matched.
 */
export function reapOrphans(projectDir: string): string[] {
    const said: string[] = [];
    for (const name of fs.existsSync("/proc") ? fs.readdirSync("/proc") : []) {
        if (!/^\d+$/.test(name)) continue;
        try {
            const ppid = Number(
                fs
                    .readFileSync(`/proc/${name}/stat`, "utf8")
                    .replace(/^.*\) /s, "")
                    .split(" ")[1],
            );
            if (ppid !== 1) continue;
            const cmd = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ").trim();
            const cwd = fs.readlinkSync(`/proc/${name}/cwd`).replace(/ \(deleted\)$/, "");
            if (!PLUGIN.test(cmd) || !(cwd === projectDir || cwd.startsWith(`${projectDir}/`))) continue;
            process.kill(Number(name), "SIGTERM");
            said.push(`stopped pid ${name}, left running by the killed deploy: ${cmd.slice(0, 160)}`);
        } catch {
            // gone meanwhile, or not ours to read
        }
    }
    return said;
}
