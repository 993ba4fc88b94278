// Dynamic provider of `Database` (infra/spacetimedb/database.ts): the module published to a
// named database as the deployer identity.
//
// - create/update: PUT /v1/database/<name>?clear=<bool> with the wasm. `deleteData` decides
//   whether data may go: never (clear=false, a rejected migration fails), on_conflict (retry
//   with clear=true only when the server answered 400 "… update rejected …"), always
//   (clear=true). A rejected publish leaves the previous module serving.
// - check: when the wasm changes, the migration plan (migration-impl.ts) becomes the input
//   `migrationPlan`, so `pulumi preview --diff` shows it; a migration the server would refuse
//   under delete_data=never fails the check — preview and up stop before anything is published.
// - diff: the wasm's sha256, the server URL and the database name only (a new name replaces,
//   the others update in place); never the token, timeouts or the artifact's path.
// - read (refresh): GET /v1/database/<name> (gone → the resource leaves the state and the next
//   `up` publishes again), its identity and owner, and the RUNNING module from st_module
//   (`program_bytes`, hashed here): a module published by someone else shows as a different
//   `sha256`, and the next `up` republishes ours. What refresh cannot see: the data itself,
//   and whether the module's settings (ModuleSettings) still hold.
// - delete: does NOT delete the database. The data is sacred; destroying a stack leaves the
//   database on its server (the server's own resources decide what happens to its data).
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { ApiError, causeOf, describeAnswer, send } from "./http-impl.ts";
import {
    type DeleteDataPolicy,
    databaseInfoRequest,
    firstClear,
    isUnknown,
    parseDatabaseInfo,
    parsePublished,
    publishHint,
    publishRequest,
    RUNNING_MODULE_QUERY,
    retryWithClear,
    runningModule,
    sqlRequest,
    sqlRows,
} from "./protocol-impl.ts";

export interface DatabaseInputs {
    serverUrl: string;
    database: string;
    /** Relative to the project root (the provider's working directory). */
    wasmPath: string;
    wasmSha256: string;
    token: string;
    deleteData: DeleteDataPolicy;
    timeoutMs: number;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: string;
    /** Filled by `check`: what the publish will do to the schema and the data. */
    migrationPlan?: string;
}

export interface DatabaseOutputs {
    serverUrl: string;
    database: string;
    /** sha256 of the module the database runs (what we published, or what refresh found). */
    sha256: string;
    databaseIdentity: string;
    ownerIdentity?: string;
    /** The server's word for the last publish: created | updated. */
    op: string;
    /** Whether the last publish cleared the database. */
    cleared: boolean;
    /** Changes with every publish (settings are re-sent after each). */
    revision: string;
    programHash?: string;
    /** The plan the last publish was checked against. */
    migrationPlan?: string;
    caCert?: string;
}

/** The diff rule (olds are the state's outputs; `sha256` is what runs). */
export function databaseDiff(olds: Partial<DatabaseOutputs>, news: Partial<DatabaseInputs>): { changes: boolean; replaces: string[]; diffs: string[] } {
    const diffs: string[] = [];
    if (isUnknown(news.wasmSha256) || news.wasmSha256 !== olds.sha256) diffs.push("wasmSha256");
    if (isUnknown(news.serverUrl) || news.serverUrl !== olds.serverUrl) diffs.push("serverUrl");
    const replaces = isUnknown(news.database) || news.database !== olds.database ? ["database"] : [];
    return { changes: diffs.length > 0 || replaces.length > 0, replaces, diffs: [...diffs, ...replaces] };
}

/** The artifact's bytes, refusing a missing or changed file. */
export function readWasm(wasmPath: string, expectedSha256: string | undefined): { bytes: Buffer; sha256: string } {
    if (!fs.existsSync(wasmPath)) {
        throw new Error(`module artifact missing: ${wasmPath} (the build step's output was removed; run up again with --replace on the module build)`);
    }
    const bytes = fs.readFileSync(wasmPath);
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    if (expectedSha256 && sha256 !== expectedSha256) {
        throw new Error(`module artifact ${wasmPath} changed since it was built (sha256 ${sha256}, expected ${expectedSha256})`);
    }
    return { bytes, sha256 };
}

export async function publish(inputs: DatabaseInputs): Promise<DatabaseOutputs> {
    const { bytes, sha256 } = readWasm(inputs.wasmPath, inputs.wasmSha256);
    let clear = firstClear(inputs.deleteData);
    let req = publishRequest(inputs.database, clear, inputs.token, bytes);
    let res = await send(inputs.serverUrl, req, inputs.timeoutMs, inputs.caCert);
    if (retryWithClear(inputs.deleteData, res)) {
        console.error(`migration rejected; clearing the database as spacetimedb.publish.delete_data=on_conflict allows: ${describeAnswer(req, res)}`);
        clear = true;
        req = publishRequest(inputs.database, clear, inputs.token, bytes);
        res = await send(inputs.serverUrl, req, inputs.timeoutMs, inputs.caCert);
    }
    if (res.status !== 200) {
        const hint = publishHint(res);
        throw new ApiError(`publish of ${inputs.database} failed: ${describeAnswer(req, res)}${hint ? `\n${hint}` : ""}`, res.status, res.body);
    }
    const published = parsePublished(req, res);
    return {
        serverUrl: inputs.serverUrl,
        database: inputs.database,
        sha256,
        databaseIdentity: published.databaseIdentity,
        op: published.op,
        cleared: clear,
        revision: `${sha256}@${new Date().toISOString()}`,
        ...(inputs.migrationPlan !== undefined ? { migrationPlan: inputs.migrationPlan } : {}),
        ...(inputs.caCert !== undefined ? { caCert: inputs.caCert } : {}),
    };
}

/**
 * The migration plan, when (and only when) the wasm, the server or the name changed: a no-op
 * run makes no request. A plan that cannot be computed (server down, unreadable schema) is said
 * in the plan and does not block: the server still refuses an unsafe migration at publish time.
 */
export async function check(olds: Partial<DatabaseInputs>, news: DatabaseInputs): Promise<{ inputs: DatabaseInputs; failures?: { property: string; reason: string }[] }> {
    const inputs: DatabaseInputs = { ...news };
    delete inputs.migrationPlan;
    const same = olds.wasmSha256 === news.wasmSha256 && olds.serverUrl === news.serverUrl && olds.database === news.database;
    if (same) return { inputs: olds.migrationPlan === undefined ? inputs : { ...inputs, migrationPlan: olds.migrationPlan } };
    if ([news.serverUrl, news.database, news.wasmPath, news.wasmSha256, news.deleteData].some(isUnknown)) return { inputs };
    // Loaded only when a plan is needed: the module-def reader would cost every no-op run ≈50 ms.
    const { planPublish, refusalMessage } = await import("./migration-impl.ts");
    let planned: Awaited<ReturnType<typeof planPublish>>;
    try {
        planned = await planPublish(news, readWasm(news.wasmPath, news.wasmSha256).bytes);
    } catch (e) {
        return { inputs: { ...inputs, migrationPlan: `not computed (${causeOf(e)}); the server checks the migration when it is published` } };
    }
    inputs.migrationPlan = planned.lines.join("\n");
    // The provider's stderr reaches the CLI's diagnostics: the plan reads as text there too.
    console.error(`migration plan for database ${news.database}:\n${planned.lines.map((l) => `  ${l}`).join("\n")}`);
    if (planned.decision === "refuse") return { inputs, failures: [{ property: "wasmSha256", reason: refusalMessage(news.database, planned.lines) }] };
    return { inputs };
}

export async function create(inputs: DatabaseInputs): Promise<{ id: string; outs: DatabaseOutputs }> {
    return { id: inputs.database, outs: await publish(inputs) };
}

export async function diff(_id: string, olds: Partial<DatabaseOutputs>, news: DatabaseInputs) {
    const { changes, replaces } = databaseDiff(olds, news);
    return { changes, replaces, deleteBeforeReplace: false };
}

export async function update(_id: string, _olds: DatabaseOutputs, news: DatabaseInputs): Promise<{ outs: DatabaseOutputs }> {
    return { outs: await publish(news) };
}

/** What the server says about the database now; undefined when it does not exist. */
export async function observe(
    serverUrl: string,
    database: string,
    timeoutMs: number,
    caCert?: string,
): Promise<{ databaseIdentity: string; ownerIdentity: string; sha256?: string; programHash?: string } | undefined> {
    const infoReq = databaseInfoRequest(database);
    const info = await send(serverUrl, infoReq, timeoutMs, caCert);
    if (info.status === 404) return undefined;
    if (info.status !== 200) throw new ApiError(describeAnswer(infoReq, info), info.status, info.body);
    const ids = parseDatabaseInfo(infoReq, info);
    // Readable without owning the database (no token: the server mints a throwaway identity).
    const sqlReq = sqlRequest(database, RUNNING_MODULE_QUERY);
    const sql = await send(serverUrl, sqlReq, timeoutMs, caCert);
    if (sql.status !== 200) {
        console.error(`refresh cannot see which module ${database} runs (sha256 kept): ${describeAnswer(sqlReq, sql)}`);
        return ids;
    }
    const running = runningModule(sqlRows(sqlReq, sql));
    return running ? { ...ids, ...running } : ids;
}

export async function read(id: string, props: DatabaseOutputs): Promise<{ id: string; props: Partial<DatabaseOutputs> }> {
    let seen: Awaited<ReturnType<typeof observe>>;
    try {
        seen = await observe(props.serverUrl, props.database, 30_000, props.caCert);
    } catch (e) {
        if (e instanceof ApiError && e.status === undefined) {
            console.error(`refresh could not reach the server (state kept): ${e.message}`);
            return { id, props };
        }
        throw e;
    }
    if (!seen) {
        console.error(`database ${props.database} does not exist on ${props.serverUrl}; the next up publishes it`);
        return { id: "", props: {} };
    }
    return { id, props: { ...props, ...seen } };
}

/** The database and its data stay on the server (see the header). */
export async function remove(): Promise<void> {}
