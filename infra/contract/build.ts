import type { Runtime } from "../config/schema";
import { ATLAS_SCHEMA_VERSION, type AtlasOutput, atlasOutputSchema } from "./atlas";

export interface AtlasFacts {
    environment: string;
    stack: string;
    runtime: Runtime;
    httpUrl: string;
    wsUrl: string;
    database: string;
    databaseIdentity?: string;
    moduleSha256: string;
    serverVersion: string;
    tlsEnabled: boolean;
    caCertPath?: string;
    deployerIdentity: string;
}

/** Assembles and validates the `atlas` output; a contract violation fails the update. */
export function buildAtlasOutput(f: AtlasFacts): AtlasOutput {
    const candidate = {
        schemaVersion: ATLAS_SCHEMA_VERSION,
        environment: f.environment,
        stack: f.stack,
        runtime: f.runtime,
        http: { url: f.httpUrl },
        ws: { url: f.wsUrl },
        database: { name: f.database, ...(f.databaseIdentity ? { identity: f.databaseIdentity } : {}) },
        module: { sha256: f.moduleSha256 },
        server: { version: f.serverVersion },
        tls: { enabled: f.tlsEnabled, ...(f.caCertPath ? { caCertPath: f.caCertPath } : {}) },
        deployer: { identity: f.deployerIdentity },
    };
    const parsed = atlasOutputSchema.safeParse(candidate);
    if (!parsed.success) {
        throw new Error(`atlas output violates its contract: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    return parsed.data;
}

/** ws(s):// twin of an http(s):// URL. */
export function wsUrlOf(httpUrl: string): string {
    return httpUrl.replace(/^http(s?):\/\//, "ws$1://");
}
