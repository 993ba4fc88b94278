import * as pulumi from "@pulumi/pulumi";

/** A resource as the engine would be told about it: inputs, secret markers and lifecycle options. */
export interface CapturedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** Input names the program (or the SDK) marked secret; `inputs` holds the plain values. */
    secretInputs: string[];
    options: {
        protect?: boolean;
        retainOnDelete?: boolean;
        deleteBeforeReplace: boolean;
        ignoreChanges: string[];
        additionalSecretOutputs: string[];
        /** Name of the parent resource. */
        parent: string;
        /** Names of every resource it depends on (dependsOn and inputs). */
        dependencies: string[];
    };
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
    const settings = require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any; waitForRPCs(): Promise<void> };
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
        optionsOf.set(key(req.getType(), req.getName()), {
            ...(req.hasProtect() ? { protect: req.getProtect() } : {}),
            ...(req.hasRetainondelete() ? { retainOnDelete: req.getRetainondelete() } : {}),
            deleteBeforeReplace: req.getDeletebeforereplace(),
            ignoreChanges: req.getIgnorechangesList(),
            additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
            parent: urnName(req.getParent()),
            dependencies: (req.getDependenciesList() as string[]).map(urnName),
        });
        return register(req, callback);
    };

    /** Runs a program inside a root stack resource (as the engine does) and waits for every registration. */
    const run = async <T>(program: () => T): Promise<T> => {
        let result: T | undefined;
        await pulumi.runtime.runInPulumiStack(async () => {
            result = program();
            return undefined;
        });
        return result as T;
    };
    return { resources, invokes, run, settle: () => settings.waitForRPCs() };
}

export function output<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

const key = (type: string, name: string) => `${type}::${name}`;
const urnName = (urn: string) => urn.split("::").pop() ?? "";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
function unwrapSecrets(v: unknown): unknown {
    if (isSecret(v)) return unwrapSecrets((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}

export function byName(resources: CapturedResource[], name: string): CapturedResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(", ")}`);
    return r;
}
