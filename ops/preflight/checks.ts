import { parseBuildOutput } from "../../infra/components/moduleBuild";
import { ConfigError, parseStackConfig, type StackConfig } from "../../infra/config";
import { daemonFiles, stackLayout } from "../../infra/lib/localLayout";

/**
 * The design seed's deployment checklist as pure functions: each takes the facts preflight.ts
 * gathered (command results, probes) and returns one line. Keeping the probing out of here lets
 * every verdict be table-tested without a server, a compiler or a busy port.
 */

/** `blocked`: not evaluated because the stack's config is invalid (the config line says why). */
export type CheckStatus = "pass" | "fail" | "blocked";

export interface CheckResult {
    id: CheckId;
    title: string;
    status: CheckStatus;
    detail: string;
    /** What to do about a failure. */
    fix?: string;
}

export const CHECKS = [
    ["module", "Rust module compiles to WebAssembly"],
    ["server", "SpacetimeDB server installed at the pinned version"],
    ["data-dir", "Database directory writable"],
    ["ports", "Network ports free"],
    ["auth", "Authentication configured"],
    ["backups", "Backup strategy in place"],
    ["monitoring", "Monitoring configured"],
    ["config", "Stack configuration valid"],
] as const;

export type CheckId = (typeof CHECKS)[number][0];

const titleOf = (id: CheckId) => CHECKS.find(([k]) => k === id)![1];
const pass = (id: CheckId, detail: string): CheckResult => ({ id, title: titleOf(id), status: "pass", detail });
const fail = (id: CheckId, detail: string, fix: string): CheckResult => ({ id, title: titleOf(id), status: "fail", detail, fix });

// ---------------------------------------------------------------- config

/** The `inner-universe:*` entries of a Pulumi.<stack>.yaml `config:` block, namespace stripped. */
export interface StackFileConfig {
    /** Plain values, as the YAML holds them (objects stay objects). */
    values: Record<string, unknown>;
    /** Keys stored as `secure:` values (never decrypted by preflight). */
    secureKeys: string[];
}

export function splitStackSettingsConfig(config: Record<string, unknown> | undefined): StackFileConfig {
    const values: Record<string, unknown> = {};
    const secureKeys: string[] = [];
    for (const [key, value] of Object.entries(config ?? {})) {
        if (!key.startsWith("inner-universe:")) continue;
        const name = key.slice("inner-universe:".length);
        if (isSecure(value)) secureKeys.push(name);
        else values[name] = value;
    }
    return { values, secureKeys };
}

function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

export function checkConfig(file: StackFileConfig | { missing: string }, ctx: { stack: string; projectRoot: string }): { result: CheckResult; cfg?: StackConfig } {
    if ("missing" in file) {
        return {
            result: fail("config", file.missing, `create Pulumi.${ctx.stack}.yaml (copy Pulumi.dev.yaml and adjust ports, or \`pulumi stack init ${ctx.stack}\`)`),
        };
    }
    try {
        const cfg = parseStackConfig(file.values, ctx);
        return { result: pass("config", `Pulumi.${ctx.stack}.yaml parses (runtime ${cfg.runtime}, environment ${cfg.environment})`), cfg };
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        return { result: fail("config", e.problems.join("; "), `edit Pulumi.${ctx.stack}.yaml: each problem names the key and a valid example`) };
    }
}

export function blocked(id: CheckId): CheckResult {
    return { id, title: titleOf(id), status: "blocked", detail: "not checked: the stack configuration is invalid" };
}

// ---------------------------------------------------------------- module

export type ModuleFact = { kind: "built"; exitCode: number; stdout: string; stderrTail: string } | { kind: "prebuilt"; path: string; exists: boolean; magicOk: boolean };

export function checkModule(fact: ModuleFact): CheckResult {
    if (fact.kind === "prebuilt") {
        if (!fact.exists) return fail("module", `module.wasm_path ${fact.path} does not exist`, "build it (npm run ops -- module build) or set inner-universe:module.build: true");
        if (!fact.magicOk)
            return fail(
                "module",
                `${fact.path} is not a WebAssembly module (no \\0asm header)`,
                "point inner-universe:module.wasm_path at the .wasm that `npm run ops -- module build` prints",
            );
        return pass("module", `prebuilt ${fact.path} (module.build is false)`);
    }
    if (fact.exitCode !== 0) {
        return fail(
            "module",
            `the module build exited ${fact.exitCode}: ${lastLine(fact.stderrTail)}`,
            "run `npm run ops -- module build` and fix the compiler errors; missing toolchain: `npm run setup`",
        );
    }
    try {
        const built = parseBuildOutput(fact.stdout);
        return pass("module", `${built.wasm} (${built.bytes} bytes, sha256 ${built.sha256.slice(0, 12)}…)`);
    } catch (e) {
        return fail("module", (e as Error).message, 'the module build (infra/lib/wasmBuild.ts buildWasm) must return {"wasm","sha256","bytes"}');
    }
}

function lastLine(s: string): string {
    return s.trim().split("\n").filter(Boolean).pop() ?? "no output";
}

// ---------------------------------------------------------------- server binary

export type ServerFact =
    | { kind: "binary"; binary: string; resolved?: string; versionOutput?: string; error?: string }
    | { kind: "image"; image: string; pull: boolean; presentLocally?: boolean }
    | { kind: "remote" };

/** Whole-version match: 1.2.0 must not be satisfied by 11.2.0 or 1.2.01. */
export function versionMentioned(output: string, version: string): boolean {
    const v = version.replace(/\./g, "\\.");
    return new RegExp(`(^|[^0-9.])v?${v}([^0-9.]|\\.?$|\\.[^0-9])`, "m").test(output);
}

export function checkServer(cfg: StackConfig, fact: ServerFact): CheckResult {
    const want = cfg.spacetimedb.version;
    if (fact.kind === "remote") return pass("server", `not applicable here: the instance installs spacetimedb ${want} at boot (runtime ${cfg.runtime})`);
    if (fact.kind === "image") {
        if (!versionMentioned(fact.image, want)) {
            return fail(
                "server",
                `container.image ${fact.image} does not carry version ${want} in its tag`,
                `use an image tagged for ${want} (e.g. clockworklabs/spacetime:v${want}) or change spacetimedb.version`,
            );
        }
        if (!fact.pull && fact.presentLocally === false) {
            return fail(
                "server",
                `image ${fact.image} is not present locally and container.pull is false`,
                "build it: bash toolchain/build-test-image.sh (or set container.pull: true)",
            );
        }
        return pass("server", `image ${fact.image}${fact.pull ? " (pulled on up)" : " (present locally)"}`);
    }
    if (!fact.resolved) {
        return fail(
            "server",
            `${fact.binary} not found${fact.error ? ` (${fact.error})` : ""}`,
            `run \`npm run setup\` (builds spacetimedb-standalone ${want}) or set inner-universe:local.server_binary`,
        );
    }
    if (fact.error !== undefined || fact.versionOutput === undefined) {
        return fail("server", `${fact.resolved} --version failed: ${fact.error ?? "no output"}`, "reinstall it with `npm run setup`");
    }
    if (!versionMentioned(fact.versionOutput, want)) {
        return fail(
            "server",
            `${fact.resolved} reports "${lastLine(fact.versionOutput)}", not ${want}`,
            `install ${want} (\`npm run setup\`) or set inner-universe:spacetimedb.version to the installed version`,
        );
    }
    return pass("server", `${fact.resolved}: ${lastLine(fact.versionOutput)}`);
}

// ---------------------------------------------------------------- data directory

export type DataDirFact = { kind: "local"; dir: string; probed: string; writable: boolean; error?: string } | { kind: "elsewhere"; where: string };

export function checkDataDir(fact: DataDirFact): CheckResult {
    if (fact.kind === "elsewhere") return pass("data-dir", `not applicable here: ${fact.where}`);
    if (!fact.writable) {
        return fail(
            "data-dir",
            `${fact.dir} cannot be created or written (${fact.probed === fact.dir ? "" : `tried ${fact.probed}: `}${fact.error ?? "not writable"})`,
            "fix the permissions, or point inner-universe:spacetimedb.root_dir / local.state_dir at a writable directory",
        );
    }
    return pass("data-dir", fact.probed === fact.dir ? `${fact.dir} is writable` : `${fact.dir} can be created (under ${fact.probed})`);
}

// ---------------------------------------------------------------- ports

export interface PortFact {
    role: "spacetimedb" | "tls";
    address: string;
    port: number;
    free: boolean;
    /** Set when the port is held by this stack's own running process (an `up` keeps it). */
    ownPid?: number;
    error?: string;
}

export function portsToCheck(cfg: StackConfig): Array<Pick<PortFact, "role" | "address" | "port">> {
    if (cfg.runtime === "aws") return [];
    const host = cfg.runtime === "docker" ? "127.0.0.1" : cfg.spacetimedb.address;
    const ports: Array<Pick<PortFact, "role" | "address" | "port">> = [{ role: "spacetimedb", address: host, port: cfg.spacetimedb.port }];
    if (cfg.tls.enabled && cfg.runtime === "local") ports.push({ role: "tls", address: "127.0.0.1", port: cfg.tls.port });
    return ports;
}

export function checkPorts(cfg: StackConfig, facts: PortFact[]): CheckResult {
    if (cfg.runtime === "aws") return pass("ports", "not applicable here: the instance's security group and proxy own ports 80/443");
    const busy = facts.filter((f) => !f.free && f.ownPid === undefined);
    const own = facts.filter((f) => !f.free && f.ownPid !== undefined);
    const key = (f: PortFact) => (f.role === "tls" ? "tls.port" : "spacetimedb.port");
    if (busy.length > 0) {
        return fail(
            "ports",
            busy.map((f) => `${f.address}:${f.port} (${key(f)}) is in use${f.error ? ` (${f.error})` : ""}`).join("; "),
            `stop whatever listens there (\`ss -ltnp | grep :${busy[0]!.port}\`) or choose another inner-universe:${key(busy[0]!)}`,
        );
    }
    const list = facts.map((f) => `${f.address}:${f.port}`).join(", ");
    return pass("ports", own.length ? `${list} (${own.map((f) => `${f.port} held by this stack's own process ${f.ownPid}`).join(", ")})` : `${list} free`);
}

// ---------------------------------------------------------------- auth

export function checkAuth(cfg: StackConfig, secureKeys: string[]): CheckResult {
    const token = secureKeys.includes("deployer_token");
    if (cfg.server.auth_required) {
        return pass("auth", `server.auth_required is true${token ? "; deployer token supplied as a secret" : "; the stack mints its deployer token on first up"}`);
    }
    if (token) return pass("auth", "deployer token supplied as a secret (server.auth_required is false: database routes are open through the proxy)");
    return fail(
        "auth",
        "server.auth_required is false and no deployer token is configured",
        "set inner-universe:server.auth_required: true, or `pulumi config set --secret inner-universe:deployer_token <token>`",
    );
}

// ---------------------------------------------------------------- backups and monitoring

export function checkBackups(cfg: StackConfig): CheckResult {
    return operational("backups", cfg, "backups", "snapshots of the data volume (aws.backups)");
}

export function checkMonitoring(cfg: StackConfig): CheckResult {
    return operational("monitoring", cfg, "alarms", "CloudWatch alarms (aws.alarms)");
}

function operational(id: "backups" | "monitoring", cfg: StackConfig, key: "backups" | "alarms", what: string): CheckResult {
    if (cfg.runtime !== "aws") {
        return pass(
            id,
            `not applicable (runtime ${cfg.runtime}: ${cfg.runtime === "local" ? "a developer machine" : "a disposable container"}; ${what} exist for runtime aws only)`,
        );
    }
    const section = (cfg.aws ?? {}) as Record<string, unknown>;
    if (section[key] === undefined || section[key] === null) {
        return fail(id, `runtime aws without inner-universe:aws.${key}`, `add an aws.${key} section to Pulumi.${cfg.stack}.yaml (see README "Configuration reference")`);
    }
    return pass(id, `aws.${key} configured`);
}

// ---------------------------------------------------------------- report

/** Checklist order, whatever order the facts arrived in. */
export function ordered(results: CheckResult[]): CheckResult[] {
    return CHECKS.map(([id]) => results.find((r) => r.id === id)).filter((r): r is CheckResult => r !== undefined);
}

export function exitCodeOf(results: CheckResult[]): number {
    return results.some((r) => r.status !== "pass") ? 1 : 0;
}

export function render(stack: string, results: CheckResult[]): string {
    const mark = { pass: "PASS", fail: "FAIL", blocked: "----" } as const;
    const width = Math.max(...results.map((r) => r.title.length));
    const lines = [`preflight for stack ${stack}`];
    for (const r of ordered(results)) {
        lines.push(`${mark[r.status]}  ${r.title.padEnd(width)}  ${r.detail}`);
        if (r.fix) lines.push(`      ${" ".repeat(width)}  fix: ${r.fix}`);
    }
    const failed = results.filter((r) => r.status === "fail").length;
    lines.push(failed ? `${failed} check${failed === 1 ? "" : "s"} failed` : "all checks passed");
    return lines.join("\n");
}

/** Where the local runtime's server and proxy write their pid files. */
export function pidFiles(cfg: StackConfig): { spacetimedb: string; tls: string } {
    return { spacetimedb: daemonFiles(cfg.spacetimedb.root_dir).pid, tls: daemonFiles(stackLayout(cfg.stackDir).proxyDir).pid };
}
