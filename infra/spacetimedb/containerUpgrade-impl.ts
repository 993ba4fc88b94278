// Dynamic provider of `ContainerUpgrade` (infra/spacetimedb/containerUpgrade.ts): the upgrade gate
// of the docker runtime, whose server root is a named volume and whose container belongs to the
// docker provider. It runs before that container is replaced with the new image:
//
// - check (preview): the volume's data/metadata.toml, read from the server container through the
//   Engine's archive API. A newer version than the image's is refused before anything stops; an
//   older one is planned as "server X → Y: backup first, one-way, rollback = restore".
// - create/update on an older root: what the old server serves (module hash, public row counts) →
//   the container stopped → a physical backup of the volume through infra/backup (a helper
//   container streams it) → a trial container of the new image on the volume, on a loopback port
//   of Docker's choosing, checked like the local gate → trial removed. The old container stays
//   stopped for the docker provider to replace. Any failure: the upgraded volume's contents kept in
//   a `<volume>-failed-upgrade-<id>` volume, the backup copied back, the old container started
//   again, the `up` failing saying so.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import * as path from "node:path";
import { compareVersions } from "../backup/serverVersion.ts";
import { abandonBackup, backupId, beginBackup, FILES, sealBackup } from "../backup/store.ts";
import { docker, expectStatus, helper, readVolume, startContainer, stopContainer } from "../lib/dockerEngine.ts";
import { causeOf } from "./http-impl.ts";
import { compareObservations, downgradeMessage, type Observation, observe, observeUntilReady, planOf, reportedVersion, type UpgradeRecord } from "./upgrade-impl.ts";

export interface ContainerUpgradeInputs {
    stack: string;
    database: string;
    /** spacetimedb.version: the version of `image`. */
    version: string;
    image: string;
    containerName: string;
    volumeName: string;
    /** Where the server root is inside the container (/stdb). */
    rootDir: string;
    port: number;
    /** Where the old container answers on this machine. */
    hostPort: number;
    backupDir: string;
    readyTimeoutSeconds: number;
    timeoutMs: number;
    plan?: string;
}

export type ContainerUpgradeOutputs = ContainerUpgradeInputs & { last?: UpgradeRecord };

/** The version in a root's data/metadata.toml, read from a container (running or not) as a tar stream; undefined when there is none. */
export async function containerRootVersion(container: string, rootDir: string): Promise<string | undefined> {
    const r = await docker("GET", `/containers/${encodeURIComponent(container)}/archive?path=${encodeURIComponent(`${rootDir}/data/metadata.toml`)}`);
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new Error(`reading ${rootDir}/data/metadata.toml from ${container}: Docker answered ${r.status} ${JSON.stringify(r.json)}`);
    return tarMemberText(String(r.json)).match(/^version = "(\d+\.\d+\.\d+)"$/m)?.[1];
}

/** The text of a one-file tar (a 512-byte header whose size field is octal, then the bytes). */
export function tarMemberText(tar: string): string {
    const size = Number.parseInt(tar.slice(124, 136).replace(/\0/g, "").trim(), 8);
    return Number.isFinite(size) ? tar.slice(512, 512 + size) : "";
}

export async function check(_olds: unknown, news: ContainerUpgradeInputs) {
    let onDisk: string | undefined;
    try {
        onDisk = await containerRootVersion(news.containerName, news.rootDir);
    } catch (e) {
        return { inputs: news, failures: [{ property: "image", reason: `the upgrade gate cannot read the server root's version: ${causeOf(e)}` }] };
    }
    if (onDisk && compareVersions(onDisk, news.version) > 0) {
        return { inputs: news, failures: [{ property: "version", reason: downgradeMessage(`volume ${news.volumeName}`, onDisk, news.version) }] };
    }
    return { inputs: { ...news, plan: planOf(onDisk, news.version) } };
}

export async function diff(_id: string, olds: ContainerUpgradeOutputs, news: ContainerUpgradeInputs) {
    return { changes: olds.plan !== news.plan || olds.version !== news.version || olds.image !== news.image };
}

export async function create(inputs: ContainerUpgradeInputs) {
    return { id: `container-upgrade-${inputs.stack}`, outs: await gate(inputs, undefined) };
}

export async function update(_id: string, olds: ContainerUpgradeOutputs, news: ContainerUpgradeInputs) {
    return { outs: await gate(news, olds.last) };
}

export async function remove() {}

async function gate(i: ContainerUpgradeInputs, last: UpgradeRecord | undefined): Promise<ContainerUpgradeOutputs> {
    const outs = (record: UpgradeRecord | undefined): ContainerUpgradeOutputs => ({ ...i, plan: planOf(i.version, i.version), ...(record ? { last: record } : {}) });
    const from = await containerRootVersion(i.containerName, i.rootDir);
    if (!from || from === i.version) return outs(last);
    if (compareVersions(from, i.version) > 0) throw new Error(downgradeMessage(`volume ${i.volumeName}`, from, i.version));

    const serving = { serverUrl: `http://127.0.0.1:${i.hostPort}`, database: i.database, timeoutMs: i.timeoutMs };
    const before = await observe(serving).catch(() => undefined);
    await stopContainer(i.containerName);
    const at = new Date();
    const id = backupId(at);
    const partial = beginBackup(i.backupDir, id, 0);
    try {
        await readVolume(i.image, i.volumeName, path.join(partial, FILES));
        sealBackup(i.backupDir, id, {
            stack: i.stack,
            runtime: "docker",
            database: i.database,
            createdAt: new Date().toISOString(),
            recoveryPoint: at.toISOString(),
            method: "helper-container",
            serverVersion: from,
            reason: `before the upgrade ${from} → ${i.version}`,
        });
    } catch (e) {
        abandonBackup(i.backupDir, id);
        await startContainer(i.containerName).catch(() => {});
        throw new Error(`upgrade ${from} → ${i.version} not started: the pre-upgrade backup failed (${causeOf(e)}); the volume is untouched and ${i.containerName} started again`);
    }
    try {
        const problems = await trial(i, before);
        if (problems.length > 0) throw new Error(problems.join("; "));
    } catch (e) {
        throw new Error(`upgrade ${from} → ${i.version} failed on a trial container: ${causeOf(e)}\n${await rollback(i, { from, id })}`);
    }
    return outs({ from, to: i.version, backupId: id, at: at.toISOString() });
}

/** The new image on the volume in a throw-away container: started, observed, compared, removed. */
async function trial(i: ContainerUpgradeInputs, before: Observation | undefined): Promise<string[]> {
    const name = `${i.containerName}-upgrade-trial`;
    await docker("DELETE", `/containers/${encodeURIComponent(name)}?force=true`);
    const portKey = `${i.port}/tcp`;
    const created = await expectStatus(
        "create the trial container",
        docker("POST", `/containers/create?name=${encodeURIComponent(name)}`, {
            Image: i.image,
            Cmd: [`--root-dir=${i.rootDir}`, "start", "--listen-addr", `0.0.0.0:${i.port}`],
            StopSignal: "SIGINT",
            ExposedPorts: { [portKey]: {} },
            Labels: { "inner-universe.stack": i.stack, "inner-universe.role": "upgrade-trial" },
            HostConfig: { Init: true, Mounts: [{ Type: "volume", Source: i.volumeName, Target: i.rootDir }], PortBindings: { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] } },
        }),
        [201],
    );
    try {
        await expectStatus("start the trial container", docker("POST", `/containers/${created.Id}/start`), [204]);
        const inspected = await expectStatus("inspect the trial container", docker("GET", `/containers/${created.Id}/json`), [200]);
        const hostPort = inspected.NetworkSettings?.Ports?.[portKey]?.[0]?.HostPort as string | undefined;
        if (!hostPort) throw new Error("the trial container was given no host port");
        const at = { serverUrl: `http://127.0.0.1:${hostPort}`, database: i.database, timeoutMs: i.timeoutMs };
        const after = await observeUntilReady({ ...at, readyTimeoutSeconds: i.readyTimeoutSeconds });
        const problems = before ? compareObservations(before, after) : [];
        const reported = await reportedVersion(at);
        if (reported && reported !== i.version) problems.push(`the server reports version ${reported}, not ${i.version}`);
        return problems;
    } finally {
        await docker("POST", `/containers/${created.Id}/stop?t=30`);
        await docker("DELETE", `/containers/${created.Id}?force=true`);
    }
}

/** The upgraded contents kept in a new volume, the backup copied back, the old container started. */
async function rollback(i: ContainerUpgradeInputs, r: { from: string; id: string }): Promise<string> {
    const said: string[] = [];
    try {
        const aside = `${i.volumeName}-failed-upgrade-${r.id}`.toLowerCase();
        await expectStatus(
            "create the failed-upgrade volume",
            docker("POST", "/volumes/create", { Name: aside, Labels: { "inner-universe.role": "failed-upgrade", "inner-universe.stack": i.stack } }),
            [201],
        );
        await helper(
            i.image,
            `set -e; cd ${i.rootDir} && tar -cf - . | tar -C /aside -xpf - && find ${i.rootDir} -mindepth 1 -maxdepth 1 -exec rm -rf {} + && tar -C /backup -cf - . | tar -C ${i.rootDir} -xpf -`,
            [
                { Type: "volume", Source: i.volumeName, Target: i.rootDir },
                { Type: "volume", Source: aside, Target: "/aside" },
                { Type: "bind", Source: path.resolve(i.backupDir, r.id, FILES), Target: "/backup", ReadOnly: true },
            ],
        );
        said.push(`the upgraded contents are kept in volume ${aside}`, `the pre-upgrade backup ${r.id} is restored`);
        await startContainer(i.containerName);
        await observeUntilReady({ serverUrl: `http://127.0.0.1:${i.hostPort}`, database: i.database, timeoutMs: i.timeoutMs, readyTimeoutSeconds: i.readyTimeoutSeconds });
        said.push(`${i.containerName} (SpacetimeDB ${r.from}) is serving it again`);
        return `Rolled back: ${said.join("; ")}.`;
    } catch (e) {
        return `Rollback incomplete (${said.join("; ") || "nothing done"}): ${causeOf(e)}. The backup ${path.join(i.backupDir, r.id)} holds the pre-upgrade root (npm run ops -- backup restore --id ${r.id}).`;
    }
}
