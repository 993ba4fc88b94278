import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { cacheRoot, PROJECT } from "../infra/facts";

/**
 * The environment the Pulumi CLI runs in, defined once: `scripts/dev.sh`, the delivery workflows'
 * `scripts/ci/stack.sh`, every operator command, the tests and the benchmark take it from here, and
 * `npm run ops -- env` prints it for a shell. What runs in it is the plain CLI.
 */

/** The repository root: Pulumi.yaml, package.json (whose `main` is the program), module/, ops/. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
export { cacheRoot, PROJECT as PROJECT_NAME };

/** Tool locations written by toolchain/setup-tools.sh. */
export function toolsFile(): Record<string, string> {
    const file = process.env.IU_TOOLS_ENV ?? path.join(cacheRoot(), "tools.json");
    if (!fs.existsSync(file)) {
        throw new Error(`no tool manifest at ${file}: run \`bash toolchain/setup-tools.sh\` first (it builds the Pulumi CLI and the SpacetimeDB server)`);
    }
    return JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, string>;
}

/** Settings of the CLI itself: no plugin downloads or update checks, and the state's secrets salt reused. */
export const CLI_SETTINGS = {
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // A stack file without a salt (every fresh clone) reuses the salt the state already holds.
    PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true",
} as const;

/**
 * Node settings for the CLI's Node processes (language host, program, policy pack, providers). The
 * providers are .ts files Node loads by type stripping; without "type" in package.json Node warns
 * once per provider process, into every preview and PR comment. V8's compile cache makes a no-op up
 * ≈15% faster: every run starts four Node processes that load the same large modules.
 */
export function nodeSettings(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const warning = "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON";
    const options = (base.NODE_OPTIONS ?? "").split(" ").filter(Boolean);
    return {
        NODE_OPTIONS: [...options.filter((o) => o !== warning), warning].join(" "),
        NODE_COMPILE_CACHE: base.NODE_COMPILE_CACHE ?? path.join(cacheRoot(), "node-compile-cache"),
    };
}

/**
 * A local file backend needs a passphrase: the user's own (PULUMI_CONFIG_PASSPHRASE or _FILE), else
 * one generated once per checkout in .iu/passphrase. Back it up: the stack's secrets need it.
 */
export function passphraseEnv(projectDir: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    if (base.PULUMI_CONFIG_PASSPHRASE !== undefined || base.PULUMI_CONFIG_PASSPHRASE_FILE) return {};
    const file = path.join(projectDir, ".iu", "passphrase");
    if (!fs.existsSync(file) || fs.statSync(file).size === 0) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, randomBytes(24).toString("hex"), { mode: 0o600 });
    }
    return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
}

/** The backend: PULUMI_BACKEND_URL if set, else a file backend in the checkout's .iu/state (no cloud account). */
export function backendUrl(projectDir: string = PROJECT_ROOT, base: NodeJS.ProcessEnv = process.env): string {
    if (base.PULUMI_BACKEND_URL) return base.PULUMI_BACKEND_URL;
    const dir = path.join(projectDir, ".iu", "state");
    fs.mkdirSync(dir, { recursive: true });
    return `file://${dir}`;
}

/** What a user's own `pulumi` needs in a checkout: backend, passphrase, CLI and Node settings. */
export function pulumiEnv(projectDir: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
    return { PULUMI_BACKEND_URL: backendUrl(projectDir, base), ...passphraseEnv(projectDir, base), ...CLI_SETTINGS, ...nodeSettings(base) };
}

/**
 * The pinned tools first on PATH (the CLI's directory also holds the language host and the
 * dynamic-provider plugin) and the CLI's settings, for every command the operator commands and the
 * tests run. The backend is the caller's (`extra`), or the environment's.
 */
export function toolEnv(extra: Record<string, string> = {}): Record<string, string> {
    const bins = (toolsFile().PATH_PREFIX ?? "").split(":").filter(Boolean);
    return {
        PATH: [...bins, path.join(PROJECT_ROOT, "node_modules", ".bin"), process.env.PATH ?? ""].join(":"),
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
        ...CLI_SETTINGS,
        ...nodeSettings(),
        ...passphraseEnv(PROJECT_ROOT),
        ...extra,
    };
}

const SALT_LINE = /^(encryptionsalt|secretsprovider|encryptedkey): .*\n?/gm;

/**
 * Pulumi writes the passphrase salt into Pulumi.<stack>.yaml on every run; the state holds the same
 * salt, so it is machine data, not project data. Call before a CLI run; the function it returns takes
 * the lines out again when the file had none (a file that carried its own is left alone).
 */
export function keepStackFileClean(projectDir: string, stack: string): () => void {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    const had = fs.existsSync(file) && new RegExp(SALT_LINE.source, "m").test(fs.readFileSync(file, "utf8"));
    return () => {
        if (had || !fs.existsSync(file)) return;
        const text = fs.readFileSync(file, "utf8");
        const clean = text.replace(SALT_LINE, "");
        if (clean !== text) fs.writeFileSync(file, clean);
    };
}

/** `export K='V'` lines for a shell's eval. */
export function shellExports(env: Record<string, string>): string {
    return Object.entries(env)
        .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'`)
        .join("\n");
}
