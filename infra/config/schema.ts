import { z } from "zod";
import { DELETE_DATA_POLICIES, SERVER_VERSION, serverImage, VERIFIED_SERVER_VERSIONS } from "../facts";
import { type AwsConfig, awsSchema, awsStackProblems } from "./aws";
import { bool, DNS_LABELS, doc, IPV4, intRange, oneOf, pattern, SEMVER } from "./fields";

/**
 * The one schema for stack configuration (`inner-universe:*` keys). Sections follow the design
 * seed (module_config, spacetimedb_config, server_config, feature_flags) plus what each runtime
 * needs. Defaults keep Pulumi.dev.yaml short; cross-field rules live in `checkCombinations`.
 */

export const RUNTIMES = ["local", "docker", "aws", "remote"] as const;
export type Runtime = (typeof RUNTIMES)[number];

const moduleSection = z.strictObject({
    dir: doc(z.string().min(1).default("module"), "Rust crate of the module, relative to the project root", "module"),
    build: doc(bool().default(true), "Compile the crate to wasm32 (false: publish `wasm_path` as is)", true),
    target_dir: doc(
        z.string().min(1).default(".iu/wasm-target"),
        "Cargo target dir of the wasm build, shared by every stack of a checkout so dependencies compile once",
        ".iu/wasm-target",
    ),
    wasm_path: doc(z.string().min(1).optional(), "Prebuilt module artifact used when build is false", "dist/inner_universe_module.wasm"),
});

const publishSection = z.strictObject({
    delete_data: doc(
        oneOf(DELETE_DATA_POLICIES).default("never"),
        "Whether a publish may clear the database: never (default), on_conflict (only when the server rejects the migration), always",
        "never",
    ),
});

const spacetimedbSection = z.strictObject({
    version: doc(
        pattern(SEMVER, `a version like ${SERVER_VERSION}`).default(SERVER_VERSION),
        `SpacetimeDB server version; verified: ${VERIFIED_SERVER_VERSIONS.join(", ")} (others need accept_unverified_version)`,
        SERVER_VERSION,
    ),
    accept_unverified_version: doc(bool().default(false), "Run a spacetimedb.version this project has not verified (upgrades are one-way: take a backup first)", false),
    address: doc(
        z
            .string()
            .refine((v) => IPV4.test(v) || v === "::1" || v === "::" || v === "localhost", {
                error: (iss) => `expected an IP address to listen on, got ${JSON.stringify(iss.input)}`,
            })
            .default("127.0.0.1"),
        "Address the server listens on (loopback unless something else fronts it)",
        "127.0.0.1",
    ),
    port: doc(intRange(1, 65535).default(3000), "Port the server listens on", 3000),
    root_dir: doc(z.string().min(1).optional(), "Server root dir (data and JWT signing keys); default .iu/<stack>/stdb locally, a volume in docker, /stdb on AWS", ".iu/dev/stdb"),
    log_level: doc(oneOf(["error", "warn", "info", "debug", "trace"]).default("info"), "Server log level", "info"),
    database: doc(
        pattern(/^[a-z0-9]+(-[a-z0-9]+)*$/, "lower-case letters, digits and single dashes")
            .max(64)
            .default("inner-universe"),
        "Database name the module is published to",
        "inner-universe",
    ),
    in_memory: doc(bool().default(false), "Keep the database in memory only (test environments)", false),
    ready_timeout_s: doc(intRange(1, 3600).default(90), "How long `up` waits for the server and the module", 90),
    publish: publishSection.default({ delete_data: "never" }),
});

const serverSection = z.strictObject({
    max_connections: doc(intRange(1, 100_000).default(100), "Most concurrent client connections the proxy admits", 100),
    timeout_ms: doc(intRange(100, 600_000).default(30_000), "Request timeout for HTTP calls and proxy reads", 30_000),
    cache_size_mb: doc(
        intRange(64, 1_048_576).default(512),
        "Cache budget (MiB) synced into the module config; not passed to the 1.2 server, whose --page_pool_max_size flag panics",
        512,
    ),
    auth_required: doc(bool().default(true), "Database routes through the proxy need a bearer token", true),
});

const featureFlagsSection = z.strictObject({
    enable_state_versioning: doc(bool().default(true), "Module appends state_version rows", true),
    enable_audit_log: doc(bool().default(true), "Module appends audit events", true),
    enable_metrics: doc(bool().default(true), "Module records metrics on a schedule", true),
    enable_caching: doc(bool().default(true), "Module caching hint", true),
    enable_distribution: doc(bool().default(false), "Reserved for multi-node setups", false),
});

const tlsSection = z.strictObject({
    enabled: doc(bool().default(true), "Put TLS in front of the server", true),
    mode: doc(
        oneOf(["internal", "acme", "alb"]).default("internal"),
        "internal: Caddy's own CA (dev); acme: Caddy with Let's Encrypt; alb: AWS ALB with an ACM certificate",
        "internal",
    ),
    domain: doc(pattern(DNS_LABELS, "a DNS name like db.example.com").optional(), "Public DNS name (required for acme and alb)", "db.example.com"),
    email: doc(z.email({ error: "expected an e-mail address" }).optional(), "ACME account e-mail", "ops@example.com"),
    acme_ca: doc(
        pattern(/^https:\/\/[^\s/]+\/\S*$/, "an https:// ACME directory URL").optional(),
        "ACME directory for tls.mode acme (default: Let's Encrypt production): Let's Encrypt staging or a private CA; the host must trust a private CA's root",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
    ),
    port: doc(intRange(1, 65535).default(8443), "HTTPS port of the local proxy", 8443),
    expose_call: doc(bool().default(false), "Make reducer calls public (/v1/database/*/call/*)", false),
    expose_sql: doc(bool().default(false), "Make SQL public (/v1/database/*/sql)", false),
});

const protectSection = z.strictObject({
    data: doc(bool().default(false), "Protect the data (Pulumi protect + retain on delete; destructive publishes refused)", false),
    delete_data_on_destroy: doc(bool().default(false), "Remove the local data directory when the stack is destroyed", false),
});

const localSection = z.strictObject({
    state_dir: doc(z.string().min(1).default(".iu"), "Where local runtimes keep per-stack state", ".iu"),
    server_binary: doc(z.string().min(1).optional(), "spacetimedb-standalone to run (default: found on PATH)", "/usr/local/bin/spacetimedb-standalone"),
    caddy_binary: doc(z.string().min(1).default("caddy"), "Caddy binary for the TLS proxy", "caddy"),
});

const remoteSection = z.strictObject({
    url: doc(
        pattern(/^https?:\/\/[^\s/?#]+\/?$/, "a server URL like https://maincloud.spacetimedb.com (scheme and host, no path)"),
        "The SpacetimeDB server runtime remote publishes to; the stack runs no server (Maincloud, a company cluster)",
        "https://maincloud.spacetimedb.com",
    ),
    ca_cert: doc(z.string().min(1).optional(), "PEM of a private CA the server's https certificate chains to, relative to the project root", "certs/company-ca.pem"),
});

const healthcheckSection = z.strictObject({
    test: doc(z.array(z.string()).min(2).default(["CMD", "curl", "-fsS", "http://127.0.0.1:3000/v1/ping"]), "Container health check command (Docker syntax)", [
        "CMD",
        "curl",
        "-fsS",
        "http://127.0.0.1:3000/v1/ping",
    ]),
    interval_s: doc(intRange(1, 3600).default(5), "Health check interval", 5),
    timeout_s: doc(intRange(1, 600).default(3), "Health check timeout", 3),
    retries: doc(intRange(1, 100).default(10), "Failures before unhealthy", 10),
    start_period_s: doc(intRange(0, 3600).default(10), "Grace period after start", 10),
});

const containerSection = z.strictObject({
    image: doc(
        z
            .string()
            .regex(/^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[a-f0-9]{64})?$/, {
                error: (iss) => `expected an image reference like ${serverImage()}, got ${JSON.stringify(iss.input)}`,
            })
            .default(serverImage()),
        "Server image (entrypoint `spacetime`, like the official image)",
        serverImage(),
    ),
    pull: doc(bool().default(true), "Pull the image from a registry (false: it must exist locally)", true),
    restart: doc(oneOf(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped"), "Docker restart policy", "unless-stopped"),
    memory_mb: doc(intRange(128, 1_048_576).optional(), "Container memory limit (MiB)", 2048),
    healthcheck: healthcheckSection.default(healthcheckSection.parse({})),
});

/** The sections every runtime has (each default lives here, once). */
const commonSections = {
    environment: doc(pattern(/^[a-z][a-z0-9-]{0,30}$/, "a short lower-case name like dev").optional(), "Environment name reported to Atlas (default: the stack name)", "dev"),
    module: moduleSection.default(moduleSection.parse({})),
    spacetimedb: spacetimedbSection.default(spacetimedbSection.parse({})),
    server: serverSection.default(serverSection.parse({})),
    feature_flags: featureFlagsSection.default(featureFlagsSection.parse({})),
    protect: protectSection.default(protectSection.parse({})),
    local: localSection.default(localSection.parse({})),
    container: containerSection.default(containerSection.parse({})),
};

/**
 * What users write: every section, validated together so one run lists every problem (the
 * cross-field rules in `checkCombinations` name the key and the fix). The docs generator and the
 * error formatter read this shape.
 */
export const stackConfigSchema = z
    .strictObject({
        runtime: doc(oneOf(RUNTIMES).default("local"), "Where SpacetimeDB runs: local process, docker container, aws EC2, or remote (a server the stack does not run)", "local"),
        ...commonSections,
        tls: tlsSection.default(tlsSection.parse({})),
        aws: awsSchema.optional(),
        remote: remoteSection.optional(),
    })
    // Run the cross-field rules even when some fields are invalid, so one run lists every problem.
    .superRefine(checkCombinations, { when: () => true });

/**
 * What the program receives: a discriminated union on `runtime`, so a component can only be handed
 * the sections its runtime has — `aws` exactly when runtime is aws, `remote` exactly when remote,
 * and `tls.mode` narrowed per runtime. A config that passed the rules above always fits one variant;
 * this stage adds no rule of its own, it gives the result its type.
 */
const tlsFor = <const M extends readonly [string, ...string[]]>(modes: M) => tlsSection.extend({ mode: z.enum(modes) });
const base = z.strictObject({ ...commonSections, aws: z.undefined().optional(), remote: z.undefined().optional() });
export const runtimeVariants = z.discriminatedUnion("runtime", [
    base.extend({ runtime: z.literal("local"), tls: tlsFor(["internal", "acme"]) }),
    base.extend({ runtime: z.literal("docker"), tls: tlsFor(["internal", "acme"]) }),
    base.extend({
        runtime: z.literal("aws"),
        // acme carries its account e-mail by type; both fronts a domain.
        tls: z.discriminatedUnion("mode", [
            tlsFor(["acme"]).extend({ enabled: z.literal(true), domain: tlsSection.shape.domain.unwrap(), email: tlsSection.shape.email.unwrap() }),
            tlsFor(["alb"]).extend({ enabled: z.literal(true), domain: tlsSection.shape.domain.unwrap() }),
        ]),
        aws: awsSchema,
    }),
    base.extend({ runtime: z.literal("remote"), tls: tlsFor(["internal"]), remote: remoteSection }),
]);

export const stackConfig = stackConfigSchema.transform((value, ctx): z.output<typeof runtimeVariants> => {
    const typed = runtimeVariants.safeParse(value);
    if (typed.success) return typed.data;
    for (const issue of typed.error.issues) ctx.addIssue({ ...issue, code: "custom", input: undefined });
    return z.NEVER;
});

export type StackConfigInput = z.input<typeof stackConfigSchema>;
export type ParsedStackConfig = z.output<typeof stackConfig>;

type Ctx = z.RefinementCtx;

/**
 * Rules that span sections; each names the key to change and how. They may see a partly invalid
 * config (sections that failed keep their raw values), so they read defensively and stay quiet
 * about a key that already has a problem of its own.
 */
function checkCombinations(cfg: z.output<z.ZodObject<any>> & Record<string, any>, ctx: Ctx): void {
    const raw = (cfg ?? {}) as Record<string, any>;
    const section = (k: string) => (raw[k] !== null && typeof raw[k] === "object" ? raw[k] : {});
    const c = {
        ...raw,
        module: { build: true, ...section("module") },
        spacetimedb: {
            address: "127.0.0.1",
            port: 3000,
            in_memory: false,
            ...section("spacetimedb"),
            publish: { delete_data: "never", ...(section("spacetimedb").publish ?? {}) },
        },
        tls: { enabled: true, mode: "internal", port: 8443, ...section("tls") },
        protect: { data: false, delete_data_on_destroy: false, ...section("protect") },
        runtime: raw.runtime ?? "local",
    } as unknown as ParsedStackConfigShape;
    const taken = new Set(ctx.issues.map((i) => i.path?.join(".")));
    const fail = (path: (string | number)[], message: string) => {
        if (!taken.has(path.join("."))) ctx.addIssue({ code: "custom", path, message, input: undefined });
    };

    const version = c.spacetimedb.version;
    if (c.runtime !== "remote" && typeof version === "string" && !VERIFIED_SERVER_VERSIONS.includes(version) && c.spacetimedb.accept_unverified_version !== true) {
        fail(
            ["spacetimedb", "version"],
            `${version} is not a server version this project has verified (${VERIFIED_SERVER_VERSIONS.join(", ")}); use one of them, or set spacetimedb.accept_unverified_version: true to run it anyway`,
        );
    }
    if (!c.module.build && !c.module.wasm_path) {
        fail(["module", "wasm_path"], "required when module.build is false (a path to a built .wasm)");
    }
    if (c.protect.data && c.spacetimedb.publish.delete_data !== "never") {
        fail(["spacetimedb", "publish", "delete_data"], `must be "never" when protect.data is true (got "${c.spacetimedb.publish.delete_data}")`);
    }
    if (c.protect.data && c.protect.delete_data_on_destroy) {
        fail(["protect", "delete_data_on_destroy"], "cannot be true while protect.data is true");
    }
    if (c.protect.data && c.spacetimedb.in_memory) {
        fail(["spacetimedb", "in_memory"], "protected data cannot live in memory; set in_memory: false");
    }
    if (c.tls.enabled && (c.tls.mode === "acme" || c.tls.mode === "alb") && !c.tls.domain) {
        fail(["tls", "domain"], `required when tls.mode is ${c.tls.mode} (the public DNS name, e.g. db.example.com)`);
    }
    if (c.tls.mode === "acme" && c.tls.enabled && !c.tls.email) {
        fail(["tls", "email"], "required for tls.mode acme (Let's Encrypt account e-mail)");
    }
    if (c.tls.acme_ca && c.tls.mode !== "acme") {
        fail(["tls", "acme_ca"], `only used by tls.mode acme (tls.mode is ${c.tls.mode}); remove it`);
    }
    if (c.runtime === "aws") {
        if (!c.aws) fail(["aws"], "required when runtime is aws (region, instance, data_volume, …)");
        if (!c.tls.enabled) fail(["tls", "enabled"], "must be true for runtime aws (every public endpoint uses TLS)");
        if (c.tls.mode === "internal") fail(["tls", "mode"], 'must be "acme" or "alb" for runtime aws');
        if (c.spacetimedb.address !== "127.0.0.1") fail(["spacetimedb", "address"], "must be 127.0.0.1 on AWS (the proxy is the only public listener)");
        // Rules between the aws section and the rest; only on an aws section that parsed cleanly.
        if (c.aws && !ctx.issues.some((i) => i.path?.[0] === "aws")) {
            for (const p of awsStackProblems(c.aws as AwsConfig, c)) fail(p.path, p.message);
        }
    } else {
        if (c.aws) fail(["aws"], `only allowed when runtime is aws (runtime is ${c.runtime})`);
        if (c.tls.enabled && c.tls.mode === "alb") fail(["tls", "mode"], 'alb needs runtime aws; use "internal" or "acme"');
    }
    if (c.runtime === "remote") {
        if (!c.remote) fail(["remote"], "required when runtime is remote: remote.url, the server to publish to (and deployer_token as a secret)");
        else if (typeof c.remote.url === "string" && c.remote.url.startsWith("http://") && !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/?$/.test(c.remote.url)) {
            fail(["remote", "url"], "must be https:// unless the server is on loopback (the deployer token would cross the network in clear)");
        }
        if (c.tls.mode !== "internal") fail(["tls", "mode"], "TLS is the remote server's own for runtime remote; remove tls.mode");
    } else if (c.remote) {
        fail(["remote"], `only allowed when runtime is remote (runtime is ${c.runtime})`);
    }
    if (c.runtime === "local" && c.tls.enabled && c.tls.port === c.spacetimedb.port) {
        fail(["tls", "port"], `must differ from spacetimedb.port (${c.spacetimedb.port})`);
    }
    if (c.spacetimedb.address !== "127.0.0.1" && c.spacetimedb.address !== "::1" && c.spacetimedb.address !== "localhost" && c.tls.enabled && c.runtime !== "docker") {
        fail(["spacetimedb", "address"], "must be loopback when tls.enabled is true (the proxy is the public listener)");
    }
}

/** The parts of the parsed shape the combination rules read (zod cannot type superRefine on its own output). */
interface ParsedStackConfigShape {
    runtime: Runtime;
    module: { build: boolean; wasm_path?: string };
    spacetimedb: { version: string; accept_unverified_version?: boolean; address: string; port: number; in_memory: boolean; publish: { delete_data: string } };
    tls: { enabled: boolean; mode: string; domain?: string; email?: string; acme_ca?: string; port: number };
    protect: { data: boolean; delete_data_on_destroy: boolean };
    aws?: unknown;
    remote?: { url?: unknown; ca_cert?: string };
}
