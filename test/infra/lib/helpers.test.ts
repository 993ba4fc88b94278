import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseBuildOutput } from "../../../infra/components/moduleBuild";
import { canonicalJson } from "../../../infra/lib/canonicalJson";
import { hashTree } from "../../../infra/lib/sourceHash";
import { identityOfToken } from "../../../infra/lib/token";
import { README, withReference } from "../../../toolchain/gen-config-docs";

const jwt = (claims: object) => `eyJhbGciOiJFUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.sig`;

describe("source hash (module rebuild trigger)", () => {
    const tree = () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hash-"));
        fs.mkdirSync(path.join(dir, "src"));
        fs.writeFileSync(path.join(dir, "Cargo.toml"), "[package]\n");
        fs.writeFileSync(path.join(dir, "src", "lib.rs"), "fn a() {}\n");
        return dir;
    };
    it.each([
        ["editing a source file", (d: string) => fs.appendFileSync(path.join(d, "src", "lib.rs"), "//\n"), true],
        ["adding a file", (d: string) => fs.writeFileSync(path.join(d, "src", "b.rs"), ""), true],
        ["renaming a file", (d: string) => fs.renameSync(path.join(d, "src", "lib.rs"), path.join(d, "src", "main.rs")), true],
        [
            "writing build output under target/",
            (d: string) => {
                fs.mkdirSync(path.join(d, "target"));
                fs.writeFileSync(path.join(d, "target", "x.wasm"), "x");
            },
            false,
        ],
        ["touching a file without changing it", (d: string) => fs.utimesSync(path.join(d, "Cargo.toml"), new Date(), new Date(2000, 1, 1)), false],
    ] as const)("$0 — changes the hash: $2", (_l, change, changes) => {
        const dir = tree();
        const before = hashTree(dir);
        change(dir);
        expect(hashTree(dir) !== before).toBe(changes);
        fs.rmSync(dir, { recursive: true });
    });
    it("is the same for the same content in another directory", () => {
        const [a, b] = [fs.mkdtempSync(path.join(os.tmpdir(), "h-")), fs.mkdtempSync(path.join(os.tmpdir(), "h-"))];
        for (const d of [a, b]) fs.writeFileSync(path.join(d, "x"), "same");
        expect(hashTree(a)).toBe(hashTree(b));
    });
});

describe("step output parsers", () => {
    it("reads the build's last line", () => {
        expect(parseBuildOutput(`noise\n{"wasm":"/a.wasm","sha256":"${"f".repeat(64)}","bytes":3}`)).toEqual({ wasm: "/a.wasm", sha256: "f".repeat(64), bytes: 3 });
        expect(() => parseBuildOutput('{"wasm":"/a.wasm"}')).toThrow(/no artifact line/);
    });
    it("derives the identity of a supplied token, or says what is wrong", () => {
        expect(identityOfToken(jwt({ hex_identity: "d".repeat(64) }))).toBe("d".repeat(64));
        expect(() => identityOfToken("not-a-jwt")).toThrow(/inner-universe:deployer_token: expected a SpacetimeDB JWT/);
        expect(() => identityOfToken(jwt({ sub: "x" }))).toThrow(/no hex_identity claim/);
    });
    it("canonical JSON ignores key order", () => {
        expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }));
    });
});

describe("generated documentation", () => {
    it("the README's configuration reference matches the schema", () => {
        const readme = fs.readFileSync(README, "utf8");
        expect(withReference(readme)).toBe(readme);
    });
});
