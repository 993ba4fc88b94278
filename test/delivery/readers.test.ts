import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { atlasJsonSchema, atlasOutputSchema } from "../../infra/contract/atlas";
import { AtlasReadError, DEFAULT_SCHEMA_PATH, loadSchema, parseAtlas, readAtlasFromStack } from "../../readers/ts/atlas-reader";
import { UnsupportedSchemaError, validate } from "../../readers/ts/json-schema";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

const SAMPLES = path.join(ROOT, "readers", "samples");
interface Case {
    file: string;
    expect: string;
    path?: string;
}
const CASES = JSON.parse(fs.readFileSync(path.join(SAMPLES, "cases.json"), "utf8")) as Case[];
const read = (file: string) => fs.readFileSync(path.join(SAMPLES, file), "utf8");

function errorOf(fn: () => unknown): AtlasReadError {
    try {
        fn();
    } catch (e) {
        if (e instanceof AtlasReadError) return e;
        throw e;
    }
    throw new Error("expected an AtlasReadError");
}

describe("TypeScript atlas reader: the shared samples", () => {
    it("reads the committed schema at infra/contract/atlas.schema.json", () => {
        expect(DEFAULT_SCHEMA_PATH).toBe(path.join(ROOT, "infra", "contract", "atlas.schema.json"));
        expect(loadSchema().document).toEqual(JSON.parse(JSON.stringify(atlasJsonSchema())));
    });

    it.each(CASES)("$file → $expect", (c) => {
        const text = read(c.file);
        if (c.expect === "ok") {
            const atlas = parseAtlas(text);
            const raw = JSON.parse(text) as Record<string, unknown>;
            expect(atlas).toEqual(raw.atlas ?? raw);
            // The contract's own (zod) schema agrees with the JSON Schema on real output.
            expect(atlasOutputSchema.safeParse(atlas).success).toBe(true);
            return;
        }
        const err = errorOf(() => parseAtlas(text));
        expect(err.kind, err.message).toBe(c.expect);
        if (c.path) expect(err.problems.map((p) => p.path)).toContain(c.path);
    });

    it("every sample file is listed in cases.json", () => {
        const onDisk = fs
            .readdirSync(SAMPLES, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile() && !["cases.json", "README.md"].includes(e.name))
            .map((e) => path.relative(SAMPLES, path.join(e.parentPath, e.name)))
            .sort();
        expect(CASES.map((c) => c.file).sort()).toEqual(onDisk);
    });

    it("version errors say which side to fix", () => {
        expect(errorOf(() => parseAtlas(read("malformed/schema-version-older.json"))).message).toMatch(/older than this reader supports \(1\): redeploy the stack/);
        expect(errorOf(() => parseAtlas(read("malformed/schema-version-newer.json"))).message).toMatch(/newer than this reader understands \(1\): upgrade the reader/);
        expect(errorOf(() => parseAtlas(read("malformed/schema-version-missing.json"))).message).toMatch(/schemaVersion is missing/);
    });

    it("contract violations list every problem with its path", () => {
        const raw = JSON.parse(read("dev-stack-output.json"));
        raw.atlas.http.url = "ftp://x";
        delete raw.atlas.ws;
        const err = errorOf(() => parseAtlas(JSON.stringify(raw)));
        expect(err.problems.map((p) => p.path).sort()).toEqual(["atlas.http.url", "atlas.ws"]);
        expect(err.message).toContain("atlas.http.url");
    });

    it("the supported version comes from the schema, not from the reader", () => {
        const doc = JSON.parse(JSON.stringify(loadSchema().document));
        doc.properties.schemaVersion.const = 2;
        const err = errorOf(() => parseAtlas(read("dev-stack-output.json"), { document: doc, version: 2 }));
        expect(err.kind).toBe("version-older");
    });
});

describe("TypeScript atlas reader: command line", () => {
    const cli = (args: string[], input?: string) =>
        spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "readers", "ts", "cli.ts"), ...args], { cwd: ROOT, encoding: "utf8", input });

    it("--file prints the validated atlas object", () => {
        const r = cli(["--file", path.join(SAMPLES, "dev-stack-output.json")]);
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toEqual(JSON.parse(read("dev-stack-output.json")).atlas);
    });

    it("- reads stdin", () => {
        const r = cli(["-"], read("dev-atlas-only.json"));
        expect(r.status, r.stderr).toBe(0);
        expect(JSON.parse(r.stdout).schemaVersion).toBe(1);
    });

    it("a malformed sample exits 1 with the kind and the reason", () => {
        const r = cli(["--file", path.join(SAMPLES, "malformed", "schema-version-newer.json")]);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/^atlas-reader: version-newer: atlas schemaVersion 2 is newer/);
        expect(r.stdout).toBe("");
    });

    it("no source is a usage error", () => {
        expect(cli([]).status).toBe(2);
    });
});

describe("readAtlasFromStack runs `pulumi stack output --json`", () => {
    const fakePulumi = (script: string) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-fake-pulumi-"));
        const bin = path.join(dir, "pulumi");
        fs.writeFileSync(bin, `#!/usr/bin/env bash\n${script}\n`, { mode: 0o755 });
        return bin;
    };

    it("passes exactly those arguments and reads the output", () => {
        const log = path.join(os.tmpdir(), `iu-fake-pulumi-args-${process.pid}`);
        const bin = fakePulumi(`echo "$*" > ${log}; cat ${JSON.stringify(path.join(SAMPLES, "dev-stack-output.json"))}`);
        const atlas = readAtlasFromStack({ stack: "dev", pulumi: bin });
        expect(fs.readFileSync(log, "utf8").trim()).toBe("stack output --json --stack dev");
        expect(atlas.database.name).toBe("inner-universe");
        fs.rmSync(path.dirname(bin), { recursive: true });
        fs.rmSync(log);
    });

    it("a failing CLI becomes an input error carrying its stderr", () => {
        const bin = fakePulumi(`echo "error: no stack named 'nope' found" >&2; exit 255`);
        const err = errorOf(() => readAtlasFromStack({ stack: "nope", pulumi: bin }));
        expect(err.kind).toBe("input");
        expect(err.message).toContain("no stack named 'nope' found");
        fs.rmSync(path.dirname(bin), { recursive: true });
    });
});

describe("the JSON Schema subset (same table semantics as the Python reader)", () => {
    it.each<[Record<string, unknown>, unknown, boolean]>([
        [{ type: "number" }, 1.5, true],
        [{ type: "number" }, true, false],
        [{ type: "integer" }, 2, true],
        [{ type: "integer" }, 2.5, false],
        [{ type: "object" }, [], false],
        [{ type: "null" }, null, true],
        [{ const: 1 }, true, false],
        [{ const: "1" }, 1, false],
        [{ enum: ["local", "aws"] }, "gcp", false],
        [{ minLength: 2 }, "é", false],
        [{ maxLength: 1 }, "é", true],
        [{ minimum: 1 }, 0, false],
        [{ maximum: 1 }, 2, false],
        [{ pattern: "^a$" }, "a\n", false],
        [{ pattern: "^\\d+$" }, "\u0661\u0662", false],
        [{ pattern: "^\\w+$" }, "é", false],
        [{ pattern: "b" }, "abc", true],
        [{ items: { type: "string" } }, ["a", 1], false],
        [{ type: "object", required: ["a"] }, {}, false],
        [{ type: "object", properties: { a: { type: "string" } }, additionalProperties: false }, { b: 1 }, false],
        [{ type: "object", additionalProperties: { type: "string" } }, { b: "x" }, true],
    ])("%j on %j → valid: %s", (schema, value, ok) => {
        expect(validate(schema, value).length === 0).toBe(ok);
    });

    it.each([{ oneOf: [] }, { type: "object", properties: { a: { format: "uri" } } }])("unknown keyword %j fails loudly", (schema) => {
        expect(() => validate(schema, { a: "x" })).toThrow(UnsupportedSchemaError);
    });
});
