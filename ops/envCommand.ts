import type { Command } from "./cli";
import { PROJECT_ROOT, pulumiEnv, shellExports, toolEnv } from "./env";

/** `eval "$(npm run -s ops -- env)"`: the shell then runs `pulumi` exactly as dev.sh does. */
export const envCommand: Command = {
    path: ["env"],
    summary: "print the environment dev.sh runs the Pulumi CLI in, as shell exports (or --json)",
    details: "The tools first on PATH, the backend (file://<checkout>/.iu/state unless PULUMI_BACKEND_URL is set), the passphrase file, the CLI's and Node's settings.",
    examples: ['eval "$(npm run -s ops -- env)" && pulumi stack output -s dev --show-secrets'],
    stack: "none",
    json: true,
    run: async (ctx) => {
        const env = { ...toolEnv(), ...pulumiEnv(PROJECT_ROOT) };
        ctx.print(env, shellExports(env));
        return 0;
    },
};
