import * as path from "node:path";
import type { BackupTarget } from "../infra/program";
import { pulumiEnv } from "./env";
import { type CliOptions, pulumiOk, stackOutputs } from "./pulumi";

/**
 * What the backup commands know about a stack, read through the CLI (`pulumi stack output
 * --json --show-secrets` and, for the local server's control step, `pulumi stack export`):
 * nothing here re-derives a path or a name that the stack's config already defines.
 */
export interface StackFacts {
    target: BackupTarget;
    token: string;
    /** The project directory: relative paths in the outputs are relative to it. */
    projectDir: string;
}

/** How the operator commands run the CLI in a checkout: in the environment dev.sh gives it (ops/env.ts). */
export function cliOptions(projectDir: string, env: Record<string, string> = {}): CliOptions {
    return { cwd: projectDir, env: { ...pulumiEnv(projectDir), ...env } };
}

export async function readStack(stack: string, opts: CliOptions): Promise<StackFacts> {
    const outputs = await stackOutputs(stack, { ...opts, showSecrets: true });
    const target = outputs.backup as BackupTarget | undefined;
    if (!target) throw new Error(`stack ${stack} has no "backup" output; run \`pulumi up -s ${stack}\` once with this version of the program`);
    const token = outputs.deployerToken;
    if (typeof token !== "string" || !token) throw new Error(`stack ${stack} has no deployerToken output (pulumi stack output --show-secrets)`);
    return { target, token, projectDir: opts.cwd };
}

/** An absolute path for a project-relative one from the outputs. */
export const inProject = (facts: StackFacts, p: string) => path.resolve(facts.projectDir, p);

/** The recorded step that runs a local server: the commands and environment the engine runs it with. */
export interface ServerControl {
    start: string;
    stop: string;
    environment: Record<string, string>;
}

interface ExportedResource {
    urn: string;
    type: string;
    outputs?: Record<string, unknown>;
}

/** Finds the local server's process step in a `pulumi stack export` (its URN ends in `-server-process`). */
export function serverControlOf(exported: { deployment?: { resources?: ExportedResource[] } }): ServerControl {
    const res = (exported.deployment?.resources ?? []).find((r) => r.urn.endsWith("::inner-universe-server-process"));
    const o = res?.outputs;
    if (!o || typeof o.create !== "string" || typeof o.delete !== "string" || typeof o.environment !== "object" || o.environment === null) {
        throw new Error("the stack's state has no local server process step (inner-universe-server-process); is this a local-runtime stack that was brought up?");
    }
    const environment = o.environment as Record<string, unknown>;
    for (const [k, v] of Object.entries(environment)) {
        if (typeof v !== "string") throw new Error(`server process step: environment ${k} is not a plain string (a secret?); refusing to guess it`);
    }
    return { start: (o.update as string | undefined) ?? o.create, stop: o.delete, environment: environment as Record<string, string> };
}

export async function serverControl(stack: string, opts: CliOptions): Promise<ServerControl> {
    const r = await pulumiOk(["stack", "export", "-s", stack], opts);
    return serverControlOf(JSON.parse(r.stdout));
}
