import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonFiles, stackLayout } from "../../../infra/lib/localLayout";
import { gitDirty, isolatedDevConfig, makeCheckout } from "../../../ops/checkout";
import { alive, freePort } from "../../../ops/ports";
import { policyPackRan, pulumi, pulumiOk, run } from "../../../ops/pulumi";

/**
 * The delivery workflows' commands, run as the workflows run them (`bash scripts/ci/stack.sh …`),
 * against a file backend instead of S3: deploy (preflight, up with the policy pack, the Atlas
 * reader), the PR preview and its comment file, and the drift check, which must fail on drift.
 */
const STACK = "dev";
let tmp: string;
let checkout: string;
let env: Record<string, string>;
let stateDir: string;

const echo = (s: string) => process.stderr.write(s);
const ci = (action: string, extra: Record<string, string> = {}) => run("bash", ["scripts/ci/stack.sh", action, STACK], { cwd: checkout, env: { ...env, ...extra }, echo });

beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "iu-ci-"));
    stateDir = path.join(tmp, "state");
    checkout = makeCheckout(path.join(tmp, "checkout"), {
        devConfig: isolatedDevConfig({ stateDir, serverPort: await freePort(), tlsPort: await freePort() }),
    });
    fs.mkdirSync(path.join(tmp, "backend"));
    env = { PULUMI_BACKEND_URL: `file://${path.join(tmp, "backend")}`, PULUMI_CONFIG_PASSPHRASE: "e2e-ci" };
    // The workflows expect the stack to exist (created once by an operator).
    await pulumiOk(["stack", "init", STACK], { cwd: checkout, env });
    fs.writeFileSync(path.join(checkout, `Pulumi.${STACK}.yaml`), fs.readFileSync(path.join(checkout, `Pulumi.${STACK}.yaml`), "utf8").replace(/^encryptionsalt: .*\n/m, ""));
});

afterAll(async () => {
    try {
        await pulumi(["destroy", "-s", STACK, "--yes"], { cwd: checkout, env, echo });
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
});

describe("scripts/ci/stack.sh, as the workflows run it", () => {
    it("deploy: preflight, `pulumi up` with the policy pack, the Atlas reader — and a clean tree", async () => {
        const r = await ci("deploy");
        expect(r.code).toBe(0);
        expect(policyPackRan(r.stdout)).toBe(true);
        // Outputs stay out of CI logs.
        expect(r.stdout).not.toMatch(/deployerToken|"schemaVersion"/);
        expect(gitDirty(checkout)).toBe("");
    });

    it("preview: exit 0 on no change, and the PR comment file carries the diff", async () => {
        const comment = path.join(tmp, "preview-dev.md");
        const r = await ci("preview", { IU_COMMENT_FILE: comment });
        expect(r.code).toBe(0);
        const text = fs.readFileSync(comment, "utf8");
        expect(text).toContain("### `pulumi preview` of `dev`: passed");
        expect(policyPackRan(text)).toBe(true);
        expect(text.includes(`${String.fromCharCode(27)}[`), "no ANSI escapes").toBe(false);
    });

    it("drift: passes on a settled stack and fails once the server is killed", async () => {
        expect((await ci("drift")).code).toBe(0);
        const pid = Number(fs.readFileSync(daemonFiles(stackLayout(path.join(stateDir, STACK)).rootDir).pid, "utf8"));
        process.kill(pid, "SIGKILL");
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
        const r = await ci("drift");
        expect(r.code).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/no changes were expected but changes were proposed|changes were proposed/i);
    });
});
