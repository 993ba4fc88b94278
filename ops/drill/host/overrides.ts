/**
 * The drill's stack config: Pulumi.prod.yaml with only what a drill must change (where the host
 * downloads from, which OS it runs, which ACME directory it uses), merged key by key the way
 * `pulumi config set --path` would, plus the deploy address. Everything else stays the production value.
 */

export interface DrillAssets {
    server: { url: string; sha256: string };
    caddy: { url: string; sha256: string };
    cloudwatchAgentDeb: { url: string; sha256: string };
    acmeDirectory: string;
    /** The drill's deploy address (the machine's side of the drill network): the only source of publish routes. */
    deployCidrs: string[];
}

/** The hostname the drill's HTTPS mirror answers on (its release-shaped paths mirror GitHub's and AWS's). */
export const MIRROR_HOST = "mirror.drill.test";
export const ACME_HOST = "acme.drill.test";
/** Caddy's acme_server directory for its default CA ("local"). */
export const ACME_DIRECTORY = `https://${ACME_HOST}/acme/local/directory`;

export function drillOverrides(a: DrillAssets): Record<string, unknown> {
    return {
        aws: {
            // Debian is what the drill can boot (debootstrap); its SSM parameter and publisher account.
            instance: { os: "debian", ami_parameter: "/aws/service/debian/release/bookworm/latest/amd64", ami_owners: ["136693071363"] },
            server_binary: { url: a.server.url, sha256: a.server.sha256, command: "standalone" },
            caddy_binary: a.caddy,
            cloudwatch_agent_deb: a.cloudwatchAgentDeb,
            deploy_cidrs: a.deployCidrs,
        },
        tls: { acme_ca: a.acmeDirectory },
    };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Objects merge key by key; arrays and scalars replace (as `pulumi config set --path` does). */
export function mergeConfig(base: Obj, over: Obj): Obj {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = isObj(v) && isObj(base[k]) ? mergeConfig(base[k] as Obj, v) : v;
    return out;
}

/** `inner-universe:*` keys as Pulumi hands them to the program: objects as JSON text. */
export function pulumiConfigMap(values: Obj, namespace = "inner-universe"): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [`${namespace}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}
