import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ciPlan } from "../../ops/deploy/command";
import { PROJECT_ROOT_FOR_TESTS as ROOT } from "../support/paths";

/**
 * The GitHub Actions workflows: actionlint on every file, then the promises docs/delivery.md
 * makes about them, read from the parsed YAML.
 */

const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));

interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    if?: string;
}
interface Job {
    "runs-on": unknown;
    if?: string;
    needs?: string | string[];
    environment?: string | { name: string };
    concurrency?: { group: string; "cancel-in-progress"?: boolean } | string;
    permissions?: Record<string, string> | string;
    steps: Step[];
}
interface Workflow {
    on: Record<string, any>;
    permissions?: unknown;
    env?: Record<string, string>;
    jobs: Record<string, Job>;
}

const workflows: Record<string, Workflow> = Object.fromEntries(files.map((f) => [f, parse(fs.readFileSync(path.join(WORKFLOWS, f), "utf8")) as Workflow]));
const allJobs = Object.entries(workflows).flatMap(([file, wf]) => Object.entries(wf.jobs).map(([name, job]) => ({ file, name, job })));

/** A step that runs the repo's CI command on a stack (`bash scripts/ci/stack.sh ACTION STACK`). */
interface StackStep {
    step: Step;
    action: "preview" | "deploy" | "drift";
    /** The Pulumi command it runs. */
    command: "preview" | "up";
    stack: string;
}
const CI_STACK = /^bash scripts\/ci\/stack\.sh (preview|deploy|drift) ([\w-]+)$/;
const pulumiSteps = (job: Job): StackStep[] =>
    job.steps.flatMap((step) => {
        const m = CI_STACK.exec(step.run?.trim() ?? "");
        if (!m) return [];
        const action = m[1] as StackStep["action"];
        return [{ step, action, command: action === "deploy" ? "up" : "preview", stack: m[2]! }];
    });
const awsSteps = (job: Job) => job.steps.filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
const perms = (job: Job) => (typeof job.permissions === "object" ? job.permissions : {});
/** `up`, `destroy` and `refresh` write a stack's state; `preview` does not. */
const MUTATING = new Set(["up", "update", "destroy", "refresh"]);

function actionlint(): string {
    const candidates = [
        process.env.IU_TOOLS_BIN && path.join(process.env.IU_TOOLS_BIN, "actionlint"),
        ...(process.env.PATH ?? "").split(":").map((d) => path.join(d, "actionlint")),
        toolsManifestActionlint(),
    ].filter((c): c is string => Boolean(c));
    const found = candidates.find((c) => fs.existsSync(c));
    if (!found) {
        throw new Error(
            `actionlint not found (looked in IU_TOOLS_BIN, PATH and the tool manifest); install it with \`bash toolchain/setup-tools.sh\` (go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)`,
        );
    }
    return found;
}

function toolsManifestActionlint(): string | undefined {
    const file = process.env.IU_TOOLS_ENV ?? path.join(process.env.IU_CACHE ?? path.join(os.homedir(), ".cache", "inner-universe"), "tools.json");
    try {
        return (JSON.parse(fs.readFileSync(file, "utf8")) as { ACTIONLINT?: string }).ACTIONLINT;
    } catch {
        return undefined;
    }
}

describe("actionlint", () => {
    it("finds the workflows", () => {
        expect(files.sort()).toEqual(["ci.yml", "deploy.yml", "drift.yml", "ephemeral.yml", "preview.yml"]);
    });

    it.each(files)("%s passes actionlint (with shellcheck on run: scripts)", (file) => {
        const r = spawnSync(actionlint(), ["-no-color", path.join(".github", "workflows", file)], { cwd: ROOT, encoding: "utf8" });
        expect(r.error).toBeUndefined();
        expect(r.status, r.stdout + r.stderr).toBe(0);
    });

    it("would catch a broken workflow (the lint is really running)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-actionlint-"));
        fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
        fs.cpSync(path.join(ROOT, ".github", "actionlint.yaml"), path.join(dir, ".github", "actionlint.yaml"));
        const broken = fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8").replace("needs: deploy-dev", "needs: deploy-qa");
        fs.writeFileSync(path.join(dir, ".github", "workflows", "deploy.yml"), broken);
        const r = spawnSync(actionlint(), ["-no-color", "-config-file", ".github/actionlint.yaml", ".github/workflows/deploy.yml"], { cwd: dir, encoding: "utf8" });
        fs.rmSync(dir, { recursive: true, force: true });
        expect(r.status).toBe(1);
        expect(r.stdout).toMatch(/needs job "deploy-qa" which does not exist/);
    });
});

describe("pull requests: preview with the diff commented", () => {
    const wf = workflows["preview.yml"]!;
    const previews = allJobs.filter((j) => j.file === "preview.yml").flatMap(({ job }) => pulumiSteps(job).map((step) => ({ job, step })));
    it("no workflow drives Pulumi except through scripts/ci/stack.sh (the command the e2e suite runs)", () => {
        for (const { job } of allJobs) expect(job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command)).toEqual([]);
    });

    it("runs on pull requests", () => {
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    });

    it("previews dev and prod", () => {
        expect(previews.map(({ step }) => [step.action, step.stack])).toEqual([
            ["preview", "dev"],
            ["preview", "prod"],
        ]);
        for (const stack of ["dev", "prod"]) expect(fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`)), stack).toBe(true);
    });

    it.each(["dev", "prod"])("the %s preview comments on the PR, from the S3 backend", (stack) => {
        const { job, step } = previews.find(({ step }) => step.stack === stack)!;
        const env = (step.step as Step & { env?: Record<string, string> }).env ?? {};
        expect(String(env.PULUMI_BACKEND_URL)).toMatch(/^s3:\/\//);
        // The comment is the file the script writes, posted by a sticky comment per stack.
        const comment = job.steps.find((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
        expect(comment?.with).toMatchObject({ header: `pulumi-preview-${stack}`, path: env.IU_COMMENT_FILE });
        expect(job.steps.indexOf(comment!)).toBeGreaterThan(job.steps.indexOf(step.step));
        expect(perms(job)["pull-requests"]).toBe("write");
        // Credentials come before the preview that needs them.
        const aws = job.steps.findIndex((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        expect(aws).toBeGreaterThanOrEqual(0);
        expect(aws).toBeLessThan(job.steps.indexOf(step.step));
    });

    it.each(["preview", "deploy", "drift"] as const)("ci %s runs the policy pack and keeps outputs out of logs on every pulumi command", (action) => {
        const runs = ciPlan(action, "prod").filter((s): s is string[] => Array.isArray(s));
        expect(runs.length).toBeGreaterThan(0);
        for (const args of runs) {
            expect(args).toEqual(expect.arrayContaining(["-s", "prod", "--non-interactive", "--suppress-outputs", "--policy-pack", path.join(ROOT, "policy", "pack")]));
        }
    });
});

describe("merge to main: dev, then prod behind an approval, one update per stack", () => {
    const wf = workflows["deploy.yml"]!;

    it("runs on pushes to main", () => {
        expect(wf.on.push).toEqual({ branches: ["main"] });
    });

    it("prod waits for dev and for the production environment", () => {
        const prod = wf.jobs["deploy-prod"]!;
        expect(prod.needs).toBe("deploy-dev");
        expect(typeof prod.environment === "object" ? prod.environment.name : prod.environment).toBe("production");
        expect(pulumiSteps(prod).map((s) => [s.command, s.stack])).toEqual([["up", "prod"]]);
        expect(pulumiSteps(wf.jobs["deploy-dev"]!).map((s) => [s.command, s.stack])).toEqual([["up", "dev"]]);
    });

    it("runs the repo's preflight before the up, and the Atlas reader after it", () => {
        const steps = ciPlan("deploy", "dev").map((s) => (Array.isArray(s) ? `pulumi ${s[0]}` : "args" in s ? path.relative(ROOT, s.args.find((a) => a.endsWith(".ts"))!) : s.say));
        expect(steps).toEqual(["ops/main.ts", "pulumi up", "readers/ts/cli.ts"]);
        const preflight = ciPlan("deploy", "dev")[0] as { args: string[] };
        expect(preflight.args.slice(-3)).toEqual(["preflight", "--stack", "dev"]);
    });

    // Across every workflow: whatever writes a stack holds that stack's one concurrency group.
    const writers = allJobs.flatMap(({ file, name, job }) =>
        pulumiSteps(job)
            .filter((s) => MUTATING.has(s.command))
            .map((s) => ({ file, name, job, stack: s.stack })),
    );

    it("every job that writes a long-lived stack is found", () => {
        expect(writers.map((w) => `${w.file}:${w.name}:${w.stack}`).sort()).toEqual(["deploy.yml:deploy-dev:dev", "deploy.yml:deploy-prod:prod"]);
    });

    it.each(writers.map((w) => [`${w.file} ${w.name}`, w] as const))("%s holds its stack's group and never cancels a running update", (_n, w) => {
        const c = w.job.concurrency;
        expect(typeof c).toBe("object");
        const group = (c as { group: string }).group;
        expect(group).toBe(`pulumi-stack-${w.stack}`);
        // A per-run expression would give every run its own group: two updates at once.
        expect(group).not.toMatch(/\$\{\{/);
        expect((c as { "cancel-in-progress"?: boolean })["cancel-in-progress"]).toBe(false);
        expect((w.job as { strategy?: unknown }).strategy).toBeUndefined();
    });

    it("no other job shares a stack's deploy group (a queued one would cancel a queued deploy)", () => {
        const groups = allJobs.map(({ file, name, job }) => ({ id: `${file}:${name}`, group: typeof job.concurrency === "object" ? job.concurrency.group : job.concurrency }));
        for (const w of writers) {
            expect(groups.filter((g) => g.group === `pulumi-stack-${w.stack}`).map((g) => g.id)).toEqual([`${w.file}:${w.name}`]);
        }
    });
});

describe("nightly drift check", () => {
    const wf = workflows["drift.yml"]!;
    const checks = Object.values(wf.jobs).flatMap((job) => pulumiSteps(job));

    it("runs on a schedule", () => {
        expect(wf.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \*$/) }]);
    });

    it("refreshes and expects no changes on dev and prod, so drift fails the job", () => {
        expect(checks.map((s) => s.stack).sort()).toEqual(["dev", "prod"]);
        for (const s of checks) expect(s.action).toBe("drift");
        expect(ciPlan("drift", "prod")).toEqual([expect.arrayContaining(["preview", "--refresh", "--expect-no-changes"])]);
    });

    it("a failure opens or updates a `drift` issue", () => {
        const report = wf.jobs.report!;
        expect(report.if).toBe("failure()");
        expect([report.needs].flat().sort()).toEqual(["drift-dev", "drift-prod"]);
        expect(perms(report)).toEqual({ issues: "write" });
        expect(report.steps[0]!.run).toMatch(/gh issue create --label drift/);
    });
});

describe("per-PR ephemeral stacks", () => {
    const wf = workflows["ephemeral.yml"]!;

    it("runs on open, sync, reopen and close", () => {
        expect(wf.on.pull_request.types).toEqual(["opened", "synchronize", "reopened", "closed"]);
    });

    it("open/sync run the repo's full create → up → smoke → destroy → remove cycle", () => {
        const job = wf.jobs["test-stack"]!;
        expect(job.if).toMatch(/github\.event\.action != 'closed'/);
        expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual([
            'npm run ops -- ephemeral run --label "pr-${{ github.event.pull_request.number }}" --report ephemeral-report.json',
        ]);
    });

    it("close destroys and removes whatever the PR's runs left behind", () => {
        const job = wf.jobs.teardown!;
        expect(job.if).toMatch(/github\.event\.action == 'closed'/);
        expect(job.steps.map((s) => s.run).filter(Boolean)).toEqual(['npm run ops -- ephemeral down --label "pr-${{ github.event.pull_request.number }}"']);
    });

    it("keeps its stacks under their own backend prefix", () => {
        expect(wf.env!.PULUMI_BACKEND_URL).toMatch(/^s3:\/\/\$\{\{ vars\.PULUMI_STATE_BUCKET \}\}\/ephemeral\?/);
    });
});

describe("every workflow", () => {
    it.each(files)("%s grants nothing at the top and declares each job's permissions", (file) => {
        expect(workflows[file]!.permissions).toEqual({});
        for (const [name, job] of Object.entries(workflows[file]!.jobs)) expect(job.permissions, name).toBeDefined();
    });

    it.each(allJobs.map((j) => [`${j.file} ${j.name}`, j] as const))("%s: least privilege", (_n, { job }) => {
        const p = perms(job);
        const comments = job.steps.some((s) => s.uses?.startsWith("marocchino/sticky-pull-request-comment@"));
        const usesAws = awsSteps(job).length > 0;
        expect(p["pull-requests"] === "write", "pull-requests: write only where commenting").toBe(comments);
        expect(p["id-token"] === "write", "id-token: write only with OIDC").toBe(usesAws);
        expect(Object.entries(p).filter(([k, v]) => v === "write" && !["pull-requests", "id-token", "issues"].includes(k))).toEqual([]);
        expect(p.contents ?? "read").toBe("read");
    });

    it.each(allJobs.filter((j) => awsSteps(j.job).length > 0).map((j) => [`${j.file} ${j.name}`, j] as const))("%s: AWS through OIDC only", (_n, { job }) => {
        for (const s of awsSteps(job)) {
            expect(s.uses).toBe("aws-actions/configure-aws-credentials@v4");
            expect(String(s.with!["role-to-assume"])).toMatch(/^\$\{\{ vars\.AWS_[A-Z_]+_ROLE_ARN \}\}$/);
            expect(Object.keys(s.with!).filter((k) => /access-key|secret/.test(k))).toEqual([]);
        }
    });

    it.each(allJobs.filter((j) => j.job.steps.some((s) => s.run?.startsWith("npm run"))).map((j) => [`${j.file} ${j.name}`, j] as const))(
        "%s: installs through the repo's setup before running npm scripts",
        (_n, { job }) => {
            expect(job.steps.findIndex((s) => s.uses === "./.github/actions/setup")).toBeGreaterThanOrEqual(0);
        },
    );

    it("the shared setup runs the repo's setup script and npm ci", () => {
        const action = parse(fs.readFileSync(path.join(ROOT, ".github", "actions", "setup", "action.yml"), "utf8")) as { runs: { steps: Step[] } };
        const runs = action.runs.steps.map((s) => s.run ?? "").join("\n");
        expect(runs).toContain("bash toolchain/setup-tools.sh");
        expect(runs).toContain("npm ci");
    });

    it("the npm scripts the workflows call exist", () => {
        const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        const called = allJobs.flatMap(({ job }) => job.steps.flatMap((s) => [...(s.run ?? "").matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]!)));
        expect(called.length).toBeGreaterThan(0);
        for (const name of called) expect(scripts[name], name).toBeDefined();
    });
});
