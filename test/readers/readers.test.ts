import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ATLAS_SCHEMA_VERSION, atlasOutputSchema } from "../../infra/contract/atlas";
import { AtlasReadError, checkAtlas, parseAtlas, READER_SCHEMA_VERSION, readAtlasFromStack } from "../../readers/ts/atlas-reader";
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
    it("understands the contract's version, the one the committed JSON Schema (Python's reader) carries", () => {
        const committed = JSON.parse(fs.readFileSync(path.join(ROOT, "infra", "contract", "atlas.schema.json"), "utf8"));
        expect(READER_SCHEMA_VERSION).toBe(ATLAS_SCHEMA_VERSION);
        expect(committed.properties.schemaVersion.const).toBe(READER_SCHEMA_VERSION);
    });

    it.each(CASES)("$file → $expect", (c) => {
        const text = read(c.file);
        if (c.expect === "ok") {
            const atlas = parseAtlas(text);
            const raw = JSON.parse(text) as Record<string, unknown>;
            expect(atlas).toEqual(raw.atlas ?? raw);
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

    it("the version check uses the version it is given (the contract's), not a literal", () => {
        const atlas = JSON.parse(read("dev-atlas-only.json"));
        expect(errorOf(() => checkAtlas(atlas, atlasOutputSchema, 2)).kind).toBe("version-older");
        expect(errorOf(() => checkAtlas({ ...atlas, schemaVersion: 0 }, atlasOutputSchema, 0)).kind).toBe("invalid");
    });

    it("zod issues become problems that name the field and the fix", () => {
        const raw = JSON.parse(read("dev-atlas-only.json"));
        raw.server.extra = 1;
        raw.runtime = "gcp";
        delete raw.module.sha256;
        const err = errorOf(() => parseAtlas(JSON.stringify(raw)));
        expect(err.problems).toEqual([
            { path: "atlas.runtime", message: expect.stringMatching(/^Invalid option: expected one of "local"\|.*, got "gcp"$/) },
            { path: "atlas.module.sha256", message: "required but missing: add it (expected string)" },
            { path: "atlas.server.extra", message: "unexpected key (not in the contract): remove it" },
        ]);
        expect(err.message).toMatch(/redeploy it with the current program \(`pulumi up`\)/);
    });

    it("the contract's cross-field rule is checked once the shape is right (http URL under tls.enabled)", () => {
        const raw = JSON.parse(read("dev-atlas-only.json"));
        raw.http.url = raw.http.url.replace("https:", "http:");
        expect(errorOf(() => parseAtlas(JSON.stringify(raw))).problems).toEqual([{ path: "atlas.tls.enabled", message: "tls.enabled must match https/wss URLs" }]);
    });

    it("a value that looks like a token is refused by the contract's refinement", () => {
        const raw = JSON.parse(read("dev-atlas-only.json"));
        raw.environment = "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl";
        const err = errorOf(() => parseAtlas(JSON.stringify(raw)));
        expect(err.problems).toEqual([{ path: "atlas.environment", message: "value looks like a token; secrets never go in atlas outputs" }]);
    });
});

describe("the Python reader agrees with the TypeScript reader on every shared sample", () => {
    interface PyResult {
        file: string;
        ok: boolean;
        kind?: string;
        paths?: string[];
        atlas?: unknown;
    }
    let py: Map<string, PyResult>;
    beforeAll(() => {
        // The pinned jsonschema/regress, installed into python3 exactly as CI does (a no-op when present).
        const deps = spawnSync("bash", [path.join(ROOT, "toolchain", "test-python.sh"), "--deps"], { encoding: "utf8" });
        expect(deps.status, deps.stderr).toBe(0);
        const script = [
            "import json, sys",
            "from inner_universe_atlas import AtlasReadError, parse",
            "out = []",
            "for c in json.load(open(sys.argv[1] + '/cases.json')):",
            "    try:",
            "        out.append({'file': c['file'], 'ok': True, 'atlas': parse(open(sys.argv[1] + '/' + c['file'], encoding='utf-8').read()).raw})",
            "    except AtlasReadError as e:",
            "        out.append({'file': c['file'], 'ok': False, 'kind': e.kind, 'paths': [p.path for p in e.problems]})",
            "print(json.dumps(out))",
        ].join("\n");
        const r = spawnSync("python3", ["-c", script, SAMPLES], {
            encoding: "utf8",
            env: { ...process.env, PYTHONPATH: path.join(ROOT, "readers", "python", "src"), IU_ATLAS_SCHEMA: "" },
        });
        expect(r.status, r.stderr).toBe(0);
        py = new Map((JSON.parse(r.stdout) as PyResult[]).map((x) => [x.file, x]));
    });

    it.each(CASES)("$file", (c) => {
        const p = py.get(c.file)!;
        const text = read(c.file);
        if (c.expect === "ok") {
            expect(p.ok).toBe(true);
            expect(p.atlas).toEqual(parseAtlas(text));
            return;
        }
        const err = errorOf(() => parseAtlas(text));
        expect(p.kind).toBe(err.kind);
        const ts = err.problems.map((x) => x.path);
        if (c.path) expect(p.paths).toContain(c.path);
        // Python reports nothing TypeScript does not; TypeScript may add only what the contract's zod
        // refinements find (they have no JSON Schema form, so the committed schema lacks them).
        expect(ts).toEqual(expect.arrayContaining(p.paths ?? []));
        if (err.kind !== "invalid") return;
        const raw = JSON.parse(text) as Record<string, unknown>;
        const refined = (atlasOutputSchema.safeParse(raw.atlas ?? raw).error?.issues ?? []).filter((i) => i.code === "custom").map((i) => ["atlas", ...i.path].join("."));
        expect(ts.filter((x) => !p.paths?.includes(x)).every((x) => refined.includes(x))).toBe(true);
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

    it("no source, or an unknown option, is a usage error", () => {
        expect(cli([]).status).toBe(2);
        const r = cli(["--schema", "x.json", "-"], "{}");
        expect(r.status).toBe(2);
        expect(r.stderr).toMatch(/Unknown option '--schema'[\s\S]*usage: atlas-reader/);
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
