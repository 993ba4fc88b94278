import { execFileSync, spawnSync } from "node:child_process";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EXIT } from "../../ops/cli";
import { COMMANDS, main, parse } from "../../ops/main";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/** The operator CLI's one parser: every command answers --help and refuses what it does not know, before doing anything. */
let out: string[];
let err: string[];
beforeEach(() => {
    out = [];
    err = [];
    const into = (lines: string[]) => (s: string | Uint8Array) => {
        lines.push(String(s));
        return true;
    };
    vi.spyOn(process.stdout, "write").mockImplementation(into(out));
    vi.spyOn(process.stderr, "write").mockImplementation(into(err));
});
afterEach(() => vi.restoreAllMocks());

const words = (c: (typeof COMMANDS)[number]) => c.path;
const stackArg = (c: (typeof COMMANDS)[number]) => (c.stack === "required" ? ["--stack", "dev"] : []);

describe.each(COMMANDS.map((c) => [c.path.join(" "), c] as const))("ops %s", (_name, command) => {
    it("answers --help with its usage, flags and an example, exit 0", async () => {
        expect(await main([...words(command), "--help"])).toBe(EXIT.ok);
        const text = out.join("");
        expect(text).toContain(`usage: npm run ops -- ${command.path.join(" ")}`);
        expect(text).toContain(command.examples[0]);
        expect(text).toContain("--help");
        if (command.stack !== "none") expect(text).toContain("--stack NAME");
        if (command.json) expect(text).toContain("--json");
    });

    it("refuses an unknown flag with exit 2 and its usage, running nothing", async () => {
        const run = vi.spyOn(command, "run");
        expect(await main([...words(command), ...stackArg(command), "--no-such-flag"])).toBe(EXIT.usage);
        expect(err.join("")).toMatch(/Unknown option '--no-such-flag'[\s\S]*usage: npm run ops --/);
        expect(run).not.toHaveBeenCalled();
    });
});

describe.each(COMMANDS.filter((c) => c.stack === "required").map((c) => [c.path.join(" "), c] as const))("ops %s (acts on a stack's data)", (_name, command) => {
    it("refuses to run without --stack, exit 2", async () => {
        const run = vi.spyOn(command, "run");
        expect(await main([...words(command)])).toBe(EXIT.usage);
        expect(err.join("")).toContain("--stack is required");
        expect(run).not.toHaveBeenCalled();
    });
});

describe.each(COMMANDS.filter((c) => !c.passThrough).map((c) => [c.path.join(" "), c] as const))("ops %s (passes nothing to pulumi)", (_name, command) => {
    it("refuses arguments after --, exit 2", async () => {
        expect(await main([...words(command), ...stackArg(command), "--", "--yes"])).toBe(EXIT.usage);
        expect(err.join("")).toContain("takes no arguments after --");
    });
});

/** Names that must never reach a path, a shell or the CLI: refused by the parser, before any command runs. */
const HOSTILE_STACKS = ["../prod", "a/b", "/etc", "x\u0000y", "dev;rm -rf ~", "$(id)", "`id`", "dev prod", ".hidden", "..", "", "a".repeat(101), "dév"];
const HOSTILE_IDS = ["../../etc", "latest/..", "20261204T031500123Z/..", "20261204T031500123Z\u0000", "*", "; rm -rf ~", "20261204"];

describe.each(COMMANDS.filter((c) => c.stack !== "none" || c.flags?.stack).map((c) => [c.path.join(" "), c] as const))("ops %s with a hostile --stack", (_name, command) => {
    it.each(HOSTILE_STACKS.map((s) => [JSON.stringify(s), s] as const))("refuses %s, exit 2, running nothing", async (_shown, stack) => {
        const run = vi.spyOn(command, "run");
        expect(await main([...words(command), "--stack", stack])).toBe(EXIT.usage);
        expect(err.join("")).toContain("a stack name is 1–100 letters, digits");
        expect(err.join("")).not.toContain("\u0000");
        expect(run).not.toHaveBeenCalled();
    });
});

describe.each(COMMANDS.filter((c) => c.flags?.id).map((c) => [c.path.join(" "), c] as const))("ops %s with a hostile --id", (_name, command) => {
    it.each(HOSTILE_IDS.map((s) => [JSON.stringify(s), s] as const))("refuses %s before reading anything, exit 2", async (_shown, id) => {
        expect(await main([...words(command), "--stack", "dev", "--id", id])).toBe(EXIT.usage);
        expect(err.join("")).toContain("a backup id looks like");
    });
});

describe("the command line", () => {
    it("names an unknown command and lists the known ones, exit 2", async () => {
        expect(await main(["frobnicate"])).toBe(EXIT.usage);
        expect(err.join("")).toMatch(/unknown command "frobnicate"[\s\S]*backup create/);
    });

    it("names the verbs of a noun when the verb is wrong, exit 2", async () => {
        expect(await main(["backup", "frob", "--stack", "dev"])).toBe(EXIT.usage);
        expect(err.join("")).toContain("backup: expected one of create, list, verify, restore, export, import");
    });

    it("passes what follows -- through to the commands that hand it to pulumi", () => {
        const p = parse(["stack", "outputs", "--stack", "dev", "--", "--show-secrets"]);
        expect("command" in p && p.ctx.rest).toEqual(["--show-secrets"]);
        expect("command" in p && p.ctx.stack).toBe("dev");
    });

    it("defaults the stack to dev (or IU_STACK) only where the command allows it", () => {
        const p = parse(["status"]);
        expect("command" in p && p.ctx.stack).toBe(process.env.IU_STACK ?? "dev");
    });

    it("a usage error inside a command (a bad value) is exit 2 too", async () => {
        expect(await main(["status", "--logs", "lots"])).toBe(EXIT.usage);
        expect(err.join("")).toContain("--logs: expected a whole number ≥ 0");
    });

    it("takes the plain stack names Pulumi takes", () => {
        for (const stack of ["dev", "prod", "eph-pr-12-20261204-ab12", "team_a.staging", "A1"]) {
            const p = parse(["status", "--stack", stack]);
            expect("command" in p && p.ctx.stack).toBe(stack);
        }
    });

    it("every noun-verb path is unique", () => {
        const names = COMMANDS.map((c) => c.path.join(" "));
        expect(new Set(names).size).toBe(names.length);
    });
});

describe("the real entry points", () => {
    const node = (args: string[]) => spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "ops", "main.ts"), ...args], { cwd: ROOT, encoding: "utf8" });

    it("`npm run ops -- --help` lists every command", () => {
        const r = node(["--help"]);
        expect(r.status).toBe(0);
        for (const c of COMMANDS) expect(r.stdout).toContain(c.path.join(" "));
    });

    it("a usage error exits 2 from the process", () => {
        const r = node(["backup", "create", "--stack", "dev", "--frob"]);
        expect(r.status).toBe(2);
        expect(r.stderr).toContain("Unknown option '--frob'");
    });

    it("the package's bin entry runs the same CLI", () => {
        expect(execFileSync(path.join(ROOT, "ops", "bin.js"), ["drill", "host", "--help"], { cwd: ROOT, encoding: "utf8" })).toContain("usage: npm run ops -- drill host");
    });
});
