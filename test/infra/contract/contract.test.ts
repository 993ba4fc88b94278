import * as fs from "node:fs";
import { describe, expect, it } from "vitest";
import { atlasOutputSchema } from "../../../infra/contract/atlas";
import { buildAtlasOutput, wsUrlOf } from "../../../infra/contract/build";
import { ATLAS_SCHEMA_FILE, renderAtlasSchema } from "../../../toolchain/gen-atlas-schema";

const facts = {
    environment: "dev",
    stack: "dev",
    runtime: "local" as const,
    httpUrl: "https://127.0.0.1:8443",
    wsUrl: "wss://127.0.0.1:8443",
    database: "inner-universe",
    databaseIdentity: "c".repeat(64),
    moduleSha256: "a".repeat(64),
    serverVersion: "1.2.0",
    tlsEnabled: true,
    caCertPath: "/x/root.crt",
    deployerIdentity: "b".repeat(64),
};
const good = buildAtlasOutput(facts);
const JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJoZXhfaWRlbnRpdHkiOiJjMjAwIn0.c2lnbmF0dXJlc2ln";

describe("atlas output contract", () => {
    it("accepts what the program builds", () => {
        expect(atlasOutputSchema.parse(good)).toEqual(good);
        expect(good.schemaVersion).toBe(1);
    });

    const bad: [string, (o: any) => void, string][] = [
        ["a token-shaped value", (o) => (o.environment = JWT), "looks like a token"],
        ["a secret-named key", (o) => (o.deployer.token = "x"), "Unrecognized key"],
        ["an unknown schema version", (o) => (o.schemaVersion = 2), "schemaVersion"],
        ["a missing database name", (o) => delete o.database.name, "database.name"],
        ["an http URL with TLS on", (o) => (o.http.url = "http://127.0.0.1:8443"), "tls.enabled must match"],
        ["a ws URL that is not ws", (o) => (o.ws.url = "https://x"), "ws.url"],
        ["a short module hash", (o) => (o.module.sha256 = "abc"), "module.sha256"],
        ["an unknown runtime", (o) => (o.runtime = "k8s"), "runtime"],
        ["an extra top-level key", (o) => (o.password = "hunter2"), "password"],
    ];
    it.each(bad)("rejects %s", (_label, mutate, fragment) => {
        const o = structuredClone(good) as any;
        mutate(o);
        const r = atlasOutputSchema.safeParse(o);
        expect(r.success).toBe(false);
        expect(JSON.stringify(r.error!.issues)).toContain(fragment.split(".").pop()!);
    });

    it("buildAtlasOutput refuses to export a violating object", () => {
        expect(() => buildAtlasOutput({ ...facts, environment: JWT })).toThrow(/violates its contract/);
    });

    it("derives ws URLs from http URLs", () => {
        expect(wsUrlOf("https://db.example.com")).toBe("wss://db.example.com");
        expect(wsUrlOf("http://127.0.0.1:3000")).toBe("ws://127.0.0.1:3000");
    });

    it("the committed JSON Schema is the one generated from the zod contract", () => {
        expect(fs.readFileSync(ATLAS_SCHEMA_FILE, "utf8")).toBe(renderAtlasSchema());
    });
});
