// Dynamic provider of `ModuleSettings` (infra/spacetimedb/moduleSettings.ts): the stack's
// settings written into the module's `config` table through its admin-only `set_config`
// reducer, as the deployer (the module's first admin).
//
// - create/update: POST /v1/database/<name>/call/set_config ["<key>", "<value as JSON>"] per key.
// - diff: re-sent when the settings, the database's publish revision, the server or the
//   database change; never replaced.
// - delete: nothing (the rows belong to the module's data).
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { ApiError, describeAnswer, send } from "./http-impl.ts";
import { isUnknown, settingsCalls } from "./protocol-impl.ts";

export interface ModuleSettingsInputs {
    serverUrl: string;
    database: string;
    token: string;
    /** Canonical JSON of `{ key: value, … }`. */
    settingsJson: string;
    /** The Database's revision: every publish re-sends the settings. */
    publishRevision: string;
    timeoutMs: number;
    /** PEM of the private CA the server's https certificate chains to (project-relative); absent: the system's. */
    caCert?: string;
}

export interface ModuleSettingsOutputs {
    serverUrl: string;
    database: string;
    settingsJson: string;
    publishRevision: string;
    keys: string[];
    revision: string;
}

const WATCHED = ["settingsJson", "publishRevision", "serverUrl", "database"] as const;

export function settingsDiff(olds: Partial<ModuleSettingsOutputs>, news: Partial<ModuleSettingsInputs>): string[] {
    return WATCHED.filter((k) => isUnknown(news[k]) || news[k] !== olds[k]);
}

export async function sync(inputs: ModuleSettingsInputs): Promise<ModuleSettingsOutputs> {
    const settings = JSON.parse(inputs.settingsJson) as Record<string, unknown>;
    const calls = settingsCalls(inputs.database, settings, inputs.token);
    for (const { key, req } of calls) {
        const res = await send(inputs.serverUrl, req, inputs.timeoutMs, inputs.caCert);
        if (res.status !== 200) throw new ApiError(`set_config(${key}) failed: ${describeAnswer(req, res)}`, res.status, res.body);
    }
    return {
        serverUrl: inputs.serverUrl,
        database: inputs.database,
        settingsJson: inputs.settingsJson,
        publishRevision: inputs.publishRevision,
        keys: calls.map((c) => c.key),
        revision: `${inputs.publishRevision}+settings@${new Date().toISOString()}`,
    };
}

export async function create(inputs: ModuleSettingsInputs) {
    return { id: inputs.database, outs: await sync(inputs) };
}

export async function diff(_id: string, olds: Partial<ModuleSettingsOutputs>, news: ModuleSettingsInputs) {
    return { changes: settingsDiff(olds, news).length > 0, replaces: [] };
}

export async function update(_id: string, _olds: ModuleSettingsOutputs, news: ModuleSettingsInputs) {
    return { outs: await sync(news) };
}

export async function remove(): Promise<void> {}
