import * as pulumi from "@pulumi/pulumi";
import { isSecret, onRegister, type RegisteredOptions, unwrapSecrets, waitForRegistrations } from "./pulumiInternals";

/** A resource as the engine would be told about it: inputs, secret markers and lifecycle options. */
export interface CapturedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Input names the program (or the SDK) marked secret; `inputs` holds the plain values. */
    secretInputs: string[];
    options: RegisteredOptions;
}

export interface Invoke {
    token: string;
    args: Record<string, any>;
}

export interface MockBehaviour {
    /** id and extra state (outputs) of a new resource. */
    state?: (type: string, name: string, inputs: Record<string, any>) => { id?: string; state?: Record<string, unknown> };
    /** Result of a provider function (data source). */
    call?: (token: string, args: Record<string, any>) => Record<string, unknown>;
}

export const SHELL_TYPE = "pulumi-nodejs:dynamic/inner-universe:LocalShell";
/** The SpacetimeDB steps (infra/spacetimedb/*.ts): typed dynamic resources that call the HTTP API. */
export const IDENTITY_TYPE = "pulumi-nodejs:dynamic/spacetimedb:Identity";
export const DATABASE_TYPE = "pulumi-nodejs:dynamic/spacetimedb:Database";
export const SETTINGS_TYPE = "pulumi-nodejs:dynamic/spacetimedb:ModuleSettings";
export const READINESS_TYPE = "pulumi-nodejs:dynamic/spacetimedb:Readiness";

/**
 * Pulumi mocks that record every resource. Options are read off the RegisterResource requests
 * themselves (a wrapper around the mock monitor), i.e. exactly what the engine would receive:
 * protect after parent inheritance, retainOnDelete, ignoreChanges, dependencies.
 */
export async function installHarness(stack: string, behaviour: MockBehaviour = {}) {
    const resources: CapturedResource[] = [];
    const invokes: Invoke[] = [];
    const optionsOf = new Map<string, CapturedResource["options"]>();
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const raw = args.inputs as Record<string, any>;
                const inputs = unwrapSecrets(raw) as Record<string, any>;
                const made = behaviour.state?.(args.type, args.name, inputs) ?? {};
                const options = optionsOf.get(key(args.type, args.name));
                if (!options) throw new Error(`no RegisterResource request seen for ${args.type} ${args.name}`);
                resources.push({ type: args.type, name: args.name, inputs, secretInputs: Object.keys(raw).filter((k) => isSecret(raw[k])), options });
                return { id: made.id ?? `${args.name}-id`, state: { ...inputs, ...(made.state ?? {}) } };
            },
            call(args) {
                const inputs = args.inputs as Record<string, any>;
                invokes.push({ token: args.token, args: inputs });
                return behaviour.call?.(args.token, inputs) ?? {};
            },
        },
        "inner-universe",
        stack,
        false,
    );
    onRegister((type, name, options) => optionsOf.set(key(type, name), options));

    /** Runs a program inside a root stack resource (as the engine does) and waits for every registration. */
    const run = async <T>(program: () => T): Promise<T> => {
        let result: T | undefined;
        await pulumi.runtime.runInPulumiStack(async () => {
            result = program();
            return undefined;
        });
        return result as T;
    };
    return { resources, invokes, run, settle: waitForRegistrations };
}

export function output<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

const key = (type: string, name: string) => `${type}::${name}`;

export function byName(resources: CapturedResource[], name: string): CapturedResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(", ")}`);
    return r;
}
