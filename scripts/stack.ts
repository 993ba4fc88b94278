/**
 * Runs the program against a stack with the real engine (Automation API, inline program):
 *   tsx scripts/stack.ts <up|preview|destroy|refresh|status|outputs|rm> [--stack dev] [--yes]
 * State lives in a local file backend (.iu/state) unless PULUMI_BACKEND_URL says otherwise.
 */
import { openStack, removeStack } from "./lib/engine";
import { stackStatus } from "./lib/status";

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const action = argv[0] ?? "up";
    const flag = (name: string) => {
        const i = argv.indexOf(`--${name}`);
        return i >= 0 ? argv[i + 1] : undefined;
    };
    const stackName = flag("stack") ?? process.env.IU_STACK ?? "dev";
    const onOutput = (s: string) => process.stdout.write(s);
    const stack = await openStack({ stack: stackName });
    switch (action) {
        case "up": {
            const res = await stack.up({ onOutput, color: "auto" });
            console.log(`\n${JSON.stringify(res.summary.resourceChanges ?? {})}`);
            console.log("\natlas outputs:");
            console.log(JSON.stringify(res.outputs.atlas?.value ?? null, null, 2));
            return 0;
        }
        case "preview": {
            const res = await stack.preview({ onOutput, diff: argv.includes("--diff"), color: "auto" });
            console.log(`\n${JSON.stringify(res.changeSummary)}`);
            return 0;
        }
        case "refresh":
            await stack.refresh({ onOutput, color: "auto" });
            return 0;
        case "destroy":
            await stack.destroy({ onOutput, color: "auto" });
            return 0;
        case "rm":
            await stack.destroy({ onOutput, color: "auto" });
            await removeStack({ stack: stackName });
            console.log(`stack ${stackName} destroyed and removed`);
            return 0;
        case "outputs": {
            const outputs = await stack.outputs();
            console.log(JSON.stringify(Object.fromEntries(Object.entries(outputs).filter(([, v]) => !v.secret).map(([k, v]) => [k, v.value])), null, 2));
            return 0;
        }
        case "status": {
            const report = await stackStatus(stack);
            console.log(report.text);
            return report.healthy ? 0 : 1;
        }
        default:
            console.error(`unknown action ${action}; use up | preview | destroy | refresh | status | outputs | rm`);
            return 2;
    }
}

main().then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
