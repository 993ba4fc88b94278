import * as pulumi from "@pulumi/pulumi";

/** A resource as the program asked for it: inputs plus the options that decide its lifecycle. */
export interface CapturedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    options: {
        parent?: string;
        protect?: boolean;
        retainOnDelete?: boolean;
        deleteBeforeReplace?: boolean;
        additionalSecretOutputs?: string[];
        ignoreChanges?: string[];
        dependsOn?: string[];
    };
    /** Input property names the engine received as secrets. */
    secretInputs: string[];
}

export type StateFor = (r: { type: string; name: string; inputs: Record<string, any> }) => Record<string, unknown>;
export type CallFor = (token: string, args: Record<string, any>) => Record<string, unknown>;

export const SHELL_TYPE = "pulumi-nodejs:dynamic/inner-universe:LocalShell";

/**
 * Installs Pulumi mocks that record every resource with its options. Options are not part of
 * what mocks see, so a stack transformation records them as the program passed them.
 */
export async function installHarness(stack: string, stateFor: StateFor = () => ({}), callFor: CallFor = () => ({})) {
    const resources: CapturedResource[] = [];
    const optionsByName = new Map<string, CapturedResource["options"]>();
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                const inputs = args.inputs as Record<string, any>;
                const secretInputs = Object.entries(inputs)
                    .filter(([, v]) => isSecret(v))
                    .map(([k]) => k);
                resources.push({
                    type: args.type,
                    name: args.name,
                    inputs: unwrap(inputs),
                    options: optionsByName.get(`${args.type}::${args.name}`) ?? {},
                    secretInputs,
                });
                return { id: `${args.name}-id`, state: { ...unwrap(inputs), ...stateFor({ type: args.type, name: args.name, inputs: unwrap(inputs) }) } };
            },
            call(args) {
                return callFor(args.token, args.inputs as Record<string, any>);
            },
        },
        "inner-universe",
        stack,
        false,
    );
    /** Runs a program inside a root stack resource, so its transformation sees every resource's options. */
    const run = async <T>(program: () => T): Promise<T> => {
        let result: T | undefined;
        await pulumi.runtime.runInPulumiStack(async () => {
            pulumi.runtime.registerStackTransformation((t) => {
                const o = t.opts as pulumi.CustomResourceOptions;
                optionsByName.set(`${t.type}::${t.name}`, {
                    ...(o.parent ? { parent: (o.parent as any).__name as string } : {}),
                    ...(o.protect !== undefined ? { protect: o.protect } : {}),
                    ...(o.retainOnDelete !== undefined ? { retainOnDelete: o.retainOnDelete } : {}),
                    ...(o.deleteBeforeReplace !== undefined ? { deleteBeforeReplace: o.deleteBeforeReplace } : {}),
                    ...(o.additionalSecretOutputs ? { additionalSecretOutputs: o.additionalSecretOutputs } : {}),
                    ...(o.ignoreChanges ? { ignoreChanges: o.ignoreChanges } : {}),
                    ...(Array.isArray(o.dependsOn) ? { dependsOn: (o.dependsOn as any[]).map((d) => d.__name as string) } : {}),
                });
                return undefined;
            });
            result = program();
            return undefined;
        });
        return result as T;
    };
    return { resources, run };
}

export function output<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}

export function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
    return (o as any).isSecret as Promise<boolean>;
}

function isSecret(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as any)["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270";
}

/** Mocks hand secret inputs over wrapped; tests read plain values (secretInputs says which were wrapped). */
function unwrap(v: any): any {
    if (isSecret(v)) return unwrap(v.value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    return v;
}

export function byName(resources: CapturedResource[], name: string): CapturedResource {
    const r = resources.find((x) => x.name === name);
    if (!r) throw new Error(`no resource named ${name}; have: ${resources.map((x) => x.name).join(", ")}`);
    return r;
}
