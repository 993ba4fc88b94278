import { z } from "zod";

/**
 * The `atlas` stack output: everything Atlas needs to reach the database, nothing secret.
 * Atlas validates it with this schema (TypeScript) or the generated JSON Schema (Python).
 * Bump ATLAS_SCHEMA_VERSION on any breaking change; readers refuse versions they do not know.
 */
export const ATLAS_SCHEMA_VERSION = 1;

const JWT_LIKE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}$/;
const FORBIDDEN_KEYS = /(token|secret|password|passphrase|private|credential)/i;

const url = (schemes: string[]) => z.string().regex(new RegExp(`^(${schemes.join("|")})://[^\\s/]+(/\\S*)?$`), `expected a ${schemes.join(" or ")} URL`);

export const atlasOutputSchema = z
    .strictObject({
        schemaVersion: z.literal(ATLAS_SCHEMA_VERSION),
        environment: z.string().min(1),
        stack: z.string().min(1),
        runtime: z.enum(["local", "docker", "aws", "remote"]),
        http: z.strictObject({ url: url(["http", "https"]) }),
        ws: z.strictObject({ url: url(["ws", "wss"]) }),
        database: z.strictObject({
            name: z.string().min(1),
            identity: z
                .string()
                .regex(/^[0-9a-f]{64}$/)
                .optional(),
        }),
        module: z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
        server: z.strictObject({ version: z.string().regex(/^\d+\.\d+\.\d+$/) }),
        tls: z.strictObject({
            enabled: z.boolean(),
            /**
             * PEM file of the private CA that signed the endpoint (internal TLS only). Relative paths
             * are relative to the project directory (a relative local.state_dir keeps it so).
             */
            caCertPath: z.string().min(1).optional(),
        }),
        deployer: z.strictObject({ identity: z.string().regex(/^[0-9a-f]{64}$/) }),
    })
    .superRefine((value, ctx) => {
        for (const [path, leaf] of leaves(value)) {
            if (FORBIDDEN_KEYS.test(path.join("."))) {
                ctx.addIssue({ code: "custom", path, message: "secret-looking key in a public output" });
            }
            if (typeof leaf === "string" && JWT_LIKE.test(leaf)) {
                ctx.addIssue({ code: "custom", path, message: "value looks like a token; secrets never go in atlas outputs" });
            }
        }
        if (value.tls.enabled !== (value.http.url.startsWith("https:") && value.ws.url.startsWith("wss:"))) {
            ctx.addIssue({ code: "custom", path: ["tls", "enabled"], message: "tls.enabled must match https/wss URLs" });
        }
    });

export type AtlasOutput = z.infer<typeof atlasOutputSchema>;

function* leaves(value: unknown, path: string[] = []): Generator<[string[], unknown]> {
    if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) yield* leaves(v, [...path, k]);
    } else {
        yield [path, value];
    }
}

/** JSON Schema (draft 2020-12) of the contract, committed as infra/contract/atlas.schema.json. */
export function atlasJsonSchema(): Record<string, unknown> {
    return {
        $id: "https://inner-universe.dev/schemas/atlas-outputs.json",
        title: "Inner Universe atlas stack output",
        ...(z.toJSONSchema(atlasOutputSchema, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>),
    };
}
