import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { formatProblems, verifyTree } from "../../infra/backup/manifest";
import { rootVersion } from "../../infra/backup/serverVersion";
import { abandonBackup, backupId, beginBackup, FILES, find, prune, type StoredBackup, sealBackup, verify } from "../../infra/backup/store";
import { docker, expectStatus, helper, readVolume, startContainer as start, stopContainer as stop } from "../../infra/lib/dockerEngine";
import type { StackFacts } from "../stack";
import { DURABILITY_WINDOW_MS } from "./local";

/**
 * Container stacks: the server root is a named Docker volume. The server container is stopped
 * (`docker stop` sends its SIGINT), a helper container from the same image mounts the volume and
 * streams it as a tar (which keeps hard links) into the backup directory, and the server starts
 * again. Restore copies the current volume into a new `<volume>-pre-restore-<id>` volume first
 * (nothing is deleted), then replaces the volume's contents and reads them back to check them.
 * Everything goes through the Docker Engine API on its unix socket.
 */

function facts2(facts: StackFacts): { image: string; volume: string; container: string; root: string } {
    const t = facts.target;
    if (!t.volumeName) throw new Error(`stack ${t.stack} keeps no volume (spacetimedb.in_memory?): nothing to copy; use \`backup export\``);
    if (!t.image || !t.containerName || !t.rootDir) throw new Error(`stack ${t.stack}: the backup output lacks image/containerName/rootDir`);
    return { image: t.image, volume: t.volumeName, container: t.containerName, root: t.rootDir };
}

export async function createContainer(facts: StackFacts, opts: { backupDir: string; keep: number; now?: () => Date; log?: (l: string) => void }): Promise<StoredBackup> {
    const log = opts.log ?? (() => {});
    const now = opts.now ?? (() => new Date());
    const c = facts2(facts);
    const id = backupId(now());
    // The volume's size is not known from here: the free-space check covers the manifest, and a copy
    // that fills the disk fails and is removed like any other.
    const partial = beginBackup(opts.backupDir, id, 0);
    let b: StoredBackup;
    try {
        await new Promise((r) => setTimeout(r, DURABILITY_WINDOW_MS));
        log(`stopping ${c.container} (SIGINT through docker stop)`);
        await stop(c.container);
        const recoveryPoint = now().toISOString();
        try {
            await readVolume(c.image, c.volume, path.join(partial, FILES));
        } finally {
            log(`starting ${c.container} again`);
            await start(c.container);
        }
        const serverVersion = rootVersion(path.join(partial, FILES));
        b = sealBackup(opts.backupDir, id, {
            stack: facts.target.stack,
            runtime: "docker",
            database: facts.target.database,
            createdAt: now().toISOString(),
            recoveryPoint,
            method: "helper-container",
            ...(serverVersion ? { serverVersion } : {}),
        });
    } catch (e) {
        abandonBackup(opts.backupDir, id);
        throw e;
    }
    for (const old of prune(opts.backupDir, opts.keep)) log(`retention (keep ${opts.keep}): removed ${old}`);
    return b;
}

export async function restoreContainer(
    facts: StackFacts,
    opts: { backupDir: string; id?: string; now?: () => Date; log?: (l: string) => void },
): Promise<{ backup: StoredBackup; previousRoot?: string; started: boolean }> {
    const log = opts.log ?? (() => {});
    const c = facts2(facts);
    const backup = find(opts.backupDir, opts.id);
    verify(backup);
    const aside = `${c.volume}-pre-restore-${backupId((opts.now ?? (() => new Date()))())}`.toLowerCase();
    log(`stopping ${c.container}`);
    await stop(c.container);
    await expectStatus(
        "create the pre-restore volume",
        docker("POST", "/volumes/create", { Name: aside, Labels: { "inner-universe.role": "pre-restore", "inner-universe.stack": facts.target.stack } }),
        [201],
    );
    // Keep the current contents, then replace them with the backup's (tar keeps hard links and modes).
    await helper(
        c.image,
        "set -e; cd /stdb && tar -cf - . | tar -C /aside -xpf - && find /stdb -mindepth 1 -maxdepth 1 -exec rm -rf {} + && tar -C /backup -cf - . | tar -C /stdb -xpf -",
        [
            { Type: "volume", Source: c.volume, Target: "/stdb" },
            { Type: "volume", Source: aside, Target: "/aside" },
            { Type: "bind", Source: path.join(backup.dir, FILES), Target: "/backup", ReadOnly: true },
        ],
    );
    log(`previous contents kept in volume ${aside}`);
    const check = fs.mkdtempSync(path.join(os.tmpdir(), "iu-restored-"));
    try {
        await readVolume(c.image, c.volume, path.join(check, "root"));
        const problems = verifyTree(path.join(check, "root"), backup.manifest.files);
        if (problems.length) throw new Error(formatProblems(`restored volume ${c.volume}`, problems) + `\nprevious contents: volume ${aside}`);
    } finally {
        fs.rmSync(check, { recursive: true, force: true });
    }
    log(`starting ${c.container}`);
    await start(c.container);
    return { backup, previousRoot: `volume ${aside}`, started: true };
}
