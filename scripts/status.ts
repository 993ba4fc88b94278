/**
 * What a person asks of a running stack: last update, endpoint, and is it answering.
 *   tsx scripts/status.ts [--stack dev]     (bash scripts/dev.sh status)
 * Reads the stack through the CLI in the environment dev.sh sets; exit 1 when unhealthy.
 */
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "./lib/engine";
import { pulumiOk, stackOutputs } from "./lib/cli";
import { stackStatus } from "./lib/status";

async function main(): Promise<number> {
    const { values } = parseArgs({ options: { stack: { type: "string", default: process.env.IU_STACK ?? "dev" } } });
    const stack = values.stack!;
    const opts = { cwd: PROJECT_ROOT };
    const outputs = await stackOutputs(stack, opts);
    const history = JSON.parse((await pulumiOk(["stack", "history", "-s", stack, "--json"], opts)).stdout) as { kind: string; result: string; endTime?: string; startTime: string }[];
    const report = await stackStatus(stack, outputs, history[0]);
    console.log(report.text);
    return report.healthy ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
