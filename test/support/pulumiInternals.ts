/**
 * The one place the tests reach into @pulumi/pulumi's internals. Pulumi's public mock API
 * (`pulumi.runtime.setMocks`) hands a mock each resource's type, name and inputs, but not the
 * resource options the engine would receive (protect, retainOnDelete, ignoreChanges, parent,
 * dependencies, additionalSecretOutputs), which our policies and graph tests assert. So:
 *
 * - `onRegister` wraps the mock monitor's `registerResource` (runtime/settings `getMonitor`) and
 *   reads those options off the RegisterResource request itself;
 * - `waitForRegistrations` is runtime/settings `waitForRPCs` (every registration answered);
 * - `unwrapSecrets` undoes the SDK's wire encoding of secrets (its signature constants).
 *
 * If an SDK upgrade breaks one of these, this file is what to fix.
 */

export interface RegisteredOptions {
    protect?: boolean;
    retainOnDelete?: boolean;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    additionalSecretOutputs: string[];
    /** Name of the parent resource. */
    parent: string;
    /** Names of every resource it depends on (dependsOn and inputs). */
    dependencies: string[];
}

const settings = () => require("@pulumi/pulumi/runtime/settings") as { getMonitor(): any; waitForRPCs(): Promise<void> };
const urnName = (urn: string) => urn.split("::").pop() ?? "";

/** Calls `seen` with every RegisterResource request's type, name and options (after setMocks). */
export function onRegister(seen: (type: string, name: string, options: RegisteredOptions) => void): void {
    const monitor = settings().getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
        seen(req.getType(), req.getName(), {
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
}

export const waitForRegistrations = (): Promise<void> => settings().waitForRPCs();

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
export const isSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";

export function unwrapSecrets(v: unknown): unknown {
    if (isSecret(v)) return unwrapSecrets((v as { value: unknown }).value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    return v;
}
