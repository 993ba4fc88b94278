/**
 * Short-lived test stacks with the real engine: `ephemeral run` (create → up → smoke test →
 * destroy → remove → leak check; always tears down) and `ephemeral down` (destroy + remove
 * leftovers: a pull request's stacks when it closes). The base config is Pulumi.<from>.yaml with fresh ports, a private temp state dir and data
 * unprotected. SIGINT/SIGTERM cancel the update and tear down; exit 130/143 afterwards.
 * Exit 0 only when everything passed and nothing was left behind.
 */
import * as fs from "node:fs";
import { type Command, type Context, EXIT, echo, type FlagSpec, progress as log, UsageError } from "../cli";
import { backendUrl as defaultBackendUrl, PROJECT_ROOT } from "../env";
import { listStacks, readStackFile, realDeps } from "./engine";
import { formatLeaks } from "./leaks";
import { isEphemeralStackName, labelPrefix } from "./naming";
import { type DownReport, downEphemeral, type RunReport, runEphemeral } from "./run";
import { defaultSmoke } from "./smoke";

const BACKEND: FlagSpec = { type: "string", value: "URL", help: "the Pulumi backend (default: PULUMI_BACKEND_URL, else this checkout's file backend)" };
const REPORT: FlagSpec = { type: "string", value: "FILE", help: "also write the report as JSON to FILE" };
const LABEL: FlagSpec = { type: "string", value: "L", help: "names the stacks eph-L-… (a pull request: pr-12)" };

export const ephemeralCommands: Command[] = [
    {
        path: ["ephemeral", "run"],
        summary: "a throw-away stack: create → up → smoke → destroy → remove → leak check (always tears down)",
        details: "SIGINT/SIGTERM cancel the update and tear down; exit 130/143 afterwards. Exit 0 only when everything passed and nothing was left behind.",
        examples: ["npm run ops -- ephemeral run --label pr-12 --report ephemeral-report.json"],
        stack: "none",
        flags: { label: LABEL, from: { type: "string", value: "STACK", help: "whose Pulumi.<stack>.yaml is the base config", default: "dev" }, backend: BACKEND, report: REPORT },
        run: (ctx) => ephemeral("run", ctx),
    },
    {
        path: ["ephemeral", "down"],
        summary: "destroy and remove leftover ephemeral stacks (one by name, or all of a label or prefix)",
        examples: ["npm run ops -- ephemeral down --label pr-12", "npm run ops -- ephemeral down --stack eph-local-ab12cd"],
        stack: "none",
        flags: {
            stack: { type: "string", value: "STACK", help: "one ephemeral stack" },
            label: LABEL,
            prefix: { type: "string", value: "P", help: "every ephemeral stack whose name starts with P" },
            backend: BACKEND,
            report: REPORT,
        },
        run: (ctx) => ephemeral("down", ctx),
    },
];

async function ephemeral(command: "run" | "down", ctx: Context): Promise<number> {
    const flag = (name: string) => ctx.flags[name] as string | undefined;
    const backendUrl = flag("backend") ?? defaultBackendUrl();
    const report = flag("report");
    const controller = new AbortController();
    let received: NodeJS.Signals | undefined;
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
        process.on(sig, () => {
            if (received) {
                log(`ephemeral: ${sig} again: teardown is already running and finishes on its own (SIGKILL abandons it and may leak)`);
                return;
            }
            received = sig;
            log(`ephemeral: ${sig}: cancelling the update, then tearing down`);
            controller.abort();
        });
    }
    const onOutput = echo;

    if (command === "run") {
        const from = flag("from") ?? "dev";
        const base = await readStackFile(PROJECT_ROOT, from);
        if ("missing" in base) throw new Error(`base stack config: ${base.missing}`);
        const result = await runEphemeral(
            { label: flag("label") ?? "local", backendUrl, baseConfig: base.values, smoke: defaultSmoke, signal: controller.signal, log, onOutput },
            realDeps(),
        );
        writeReport(report, result);
        summarizeRun(result);
        if (received) return received === "SIGINT" ? 130 : 143;
        return result.ok ? EXIT.ok : EXIT.problems;
    }
    if (command === "down") {
        const stack = flag("stack");
        const prefix = flag("prefix") ?? (flag("label") ? labelPrefix(flag("label")!) : undefined);
        if (!stack === !prefix) throw new UsageError("name the stacks to tear down: one of --stack NAME, --prefix eph-…, --label pr-12");
        const names = stack ? [stack] : (await listStacks(backendUrl, PROJECT_ROOT)).filter((n) => n.startsWith(prefix!) && isEphemeralStackName(n));
        log(`ephemeral: ${names.length ? `tearing down ${names.join(", ")}` : `no stacks match ${stack ?? prefix}`}`);
        const results = await downEphemeral(names, { backendUrl, log, onOutput }, realDeps());
        writeReport(report, results);
        for (const r of results) log(`ephemeral: ${r.stack}: ${r.ok ? "gone" : `NOT cleaned: ${r.error ?? formatLeaks(r.teardown!.remaining)}`}`);
        return results.every((r) => r.ok) ? EXIT.ok : EXIT.problems;
    }
    return EXIT.usage;
}

function writeReport(file: string | undefined, value: RunReport | DownReport[]): void {
    if (file) fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function summarizeRun(r: RunReport): void {
    const t = r.teardown;
    log(`ephemeral: ${r.stack}: ${r.ok ? "passed" : `FAILED in ${r.phase}${r.error ? `: ${r.error}` : ""}`}`);
    log(`ephemeral: teardown ${t.steps.join(" → ")}${t.refused ? ` (refused: ${t.refused})` : ""}`);
    log(`ephemeral: after destroy: ${formatLeaks(t.leaks)}${t.leaks.notes.length ? ` (${t.leaks.notes.join("; ")})` : ""}`);
    if (t.leaks.leaks.length) log(`ephemeral: after cleanup: ${formatLeaks(t.remaining)}`);
}
