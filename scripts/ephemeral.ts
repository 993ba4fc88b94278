/**
 * Short-lived test stacks with the real engine:
 *   npm run ephemeral -- run  [--label pr-12] [--from dev] [--backend URL] [--report FILE]
 *       create → up → smoke test → destroy → remove → leak check; always tears down
 *   npm run ephemeral -- down (--stack eph-… | --label pr-12 | --prefix eph-pr-12-) [--backend URL] [--report FILE]
 *       destroy + remove leftovers (a pull request's stacks when it closes)
 * The base config is Pulumi.<from>.yaml with fresh ports, a private temp state dir and data
 * unprotected. SIGINT/SIGTERM cancel the update and tear down; exit 130/143 afterwards.
 * Exit 0 only when everything passed and nothing was left behind.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { defaultBackendUrl, PROJECT_ROOT } from "./lib/engine";
import { listStacks, readStackFile, realDeps } from "./lib/ephemeral-engine";
import { formatLeaks } from "./lib/ephemeral-leaks";
import { isEphemeralStackName, labelPrefix } from "./lib/ephemeral-naming";
import { type DownReport, downEphemeral, type RunReport, runEphemeral } from "./lib/ephemeral-run";
import { defaultSmoke } from "./lib/ephemeral-smoke";

// Pulumi's progress dots leave the line open; our lines must start on their own.
let lineOpen = false;
const log = (line: string) => {
    process.stderr.write(`${lineOpen ? "\n" : ""}${line}\n`);
    lineOpen = false;
};

async function main(argv: string[]): Promise<number> {
    const { positionals, values } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            backend: { type: "string" },
            report: { type: "string" },
            from: { type: "string" },
            label: { type: "string" },
            stack: { type: "string" },
            prefix: { type: "string" },
        },
    });
    const command = positionals[0];
    const flag = (name: keyof typeof values) => values[name];
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
    const onOutput = (s: string) => {
        process.stderr.write(s);
        if (s.length) lineOpen = !s.endsWith("\n");
    };

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
        return result.ok ? 0 : 1;
    }
    if (command === "down") {
        const stack = flag("stack");
        const prefix = flag("prefix") ?? (flag("label") ? labelPrefix(flag("label")!) : undefined);
        if (!stack === !prefix) {
            log("usage: ephemeral down (--stack NAME | --prefix eph-… | --label pr-12) [--backend URL]");
            return 2;
        }
        const names = stack ? [stack] : (await listStacks(backendUrl, PROJECT_ROOT)).filter((n) => n.startsWith(prefix!) && isEphemeralStackName(n));
        log(`ephemeral: ${names.length ? `tearing down ${names.join(", ")}` : `no stacks match ${stack ?? prefix}`}`);
        const results = await downEphemeral(names, { backendUrl, log, onOutput }, realDeps());
        writeReport(report, results);
        for (const r of results) log(`ephemeral: ${r.stack}: ${r.ok ? "gone" : `NOT cleaned: ${r.error ?? formatLeaks(r.teardown!.remaining)}`}`);
        return results.every((r) => r.ok) ? 0 : 1;
    }
    log("usage: ephemeral run [--label L] [--from dev] [--backend URL] [--report FILE] | ephemeral down (--stack S | --prefix P | --label L)");
    return 2;
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

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
        log(`ephemeral: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
    },
);
