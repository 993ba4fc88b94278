import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig, type StackConfig } from "../../infra/config/load";

/** Which stack `status` looks at and where it talks to the server, per runtime. */

/** The stack's config as the program parses it, from Pulumi.<stack>.yaml (no secrets needed). */
export function stackConfig(projectRoot: string, stack: string): StackConfig {
    const file = path.join(projectRoot, `Pulumi.${stack}.yaml`);
    const doc = (fs.existsSync(file) ? parseYaml(fs.readFileSync(file, "utf8")) : {}) as { config?: Record<string, unknown> };
    const raw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc?.config ?? {})) if (k.startsWith("inner-universe:")) raw[k.slice("inner-universe:".length)] = v;
    return parseStackConfig(raw, { stack, projectRoot });
}

/** Where the deploy steps reach the server: the loopback server for local/docker, the public front otherwise. */
export function adminUrl(cfg: Pick<StackConfig, "runtime" | "spacetimedb">, publicUrl: string): string {
    if (cfg.runtime === "local" || cfg.runtime === "docker") {
        const host = ["0.0.0.0", "::", "localhost"].includes(cfg.spacetimedb.address) ? "127.0.0.1" : cfg.spacetimedb.address;
        return `http://${host.includes(":") ? `[${host}]` : host}:${cfg.spacetimedb.port}`;
    }
    return publicUrl.replace(/\/$/, "");
}
