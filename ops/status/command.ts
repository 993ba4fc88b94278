/**
 * What a person (or a script) asks of a running stack, for every runtime: health through the
 * public front, server version, module hash on the server vs the stack's, database identity,
 * row counts, TLS certificate, and — for a server on this machine — its process, data-dir size,
 * disk headroom and log. Reads the stack through the CLI in the environment dev.sh sets.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { StackConfig } from "../../infra/config/load";
import { atlasOutputSchema } from "../../infra/contract/atlas";
import { archiveDirOf } from "../../infra/lib/localLayout";
import { type Command, type Context, EXIT, wholeNumber } from "../cli";
import { PROJECT_ROOT } from "../env";
import { pulumiOk, stackOutputs } from "../pulumi";
import { cliOptions } from "../stack";
import { archiveFacts } from "./archive";
import { awsFacts } from "./aws";
import { localFacts, tailLines } from "./local";
import { probeServer } from "./probe";
import { evaluate, type StatusFacts } from "./report";
import { adminUrl, stackConfig } from "./target";

export const statusCommand: Command = {
    path: ["status"],
    summary: "the operations picture of a stack, any runtime; exit 1 naming every problem",
    examples: ["npm run ops -- status --stack dev", "npm run ops -- status --stack prod --json", "bash scripts/dev.sh status --logs 50"],
    stack: "dev",
    json: true,
    flags: { logs: { type: "string", value: "N", help: "also show the server's last N log lines" } },
    run: (ctx) => status(ctx.stack, wholeNumber(ctx.flags, "logs", 0) ?? 0, ctx),
};

async function status(stack: string, logLines: number, ctx: Context): Promise<number> {
    const opts = cliOptions(PROJECT_ROOT);

    // The deployer token (a secret output) lets the SQL probes read what only the owner may.
    const outputs = await stackOutputs(stack, { ...opts, showSecrets: true }).catch(() => stackOutputs(stack, opts));
    const history = JSON.parse((await pulumiOk(["stack", "history", "-s", stack, "--json"], opts)).stdout) as StatusFacts["last"][];
    const cfg = stackConfig(PROJECT_ROOT, stack);
    const facts: StatusFacts = { stack, runtime: cfg.runtime, atlasOutput: outputs.atlas, ...(history[0] ? { last: history[0] } : {}) };

    const atlas = atlasOutputSchema.safeParse(outputs.atlas);
    if (atlas.success) {
        const a = atlas.data;
        const caPath = a.tls.caCertPath ? path.resolve(PROJECT_ROOT, a.tls.caCertPath) : cfg.remote?.ca_cert ? path.resolve(PROJECT_ROOT, cfg.remote.ca_cert) : undefined;
        const token = typeof outputs.deployerToken === "string" ? outputs.deployerToken : undefined;
        facts.server = await probeServer({
            publicUrl: a.http.url.replace(/\/$/, ""),
            adminUrl: adminUrl(cfg, a.http.url),
            database: a.database.name,
            ...(token ? { token } : {}),
            ...(caPath && fs.existsSync(caPath) ? { ca: fs.readFileSync(caPath) } : {}),
        });
    }
    if (cfg.runtime === "local") {
        const root = path.resolve(PROJECT_ROOT, cfg.spacetimedb.root_dir);
        facts.local = localFacts(root);
        if (!cfg.spacetimedb.in_memory) facts.archive = archiveFacts(root, path.resolve(PROJECT_ROOT, archiveDirOf(cfg.stateDir, cfg.stack)));
        if (logLines > 0) facts.logs = tailLines(facts.local.logFile, logLines);
    } else if (logLines > 0) {
        facts.logs = remoteLogs(cfg, outputs, logLines);
    }
    if (outputs.aws && typeof outputs.aws === "object") facts.aws = outputs.aws as StatusFacts["aws"];
    if (cfg.runtime === "aws" && cfg.aws) {
        facts.awsState = await awsFacts({ region: cfg.aws.region, mount: cfg.spacetimedb.root_dir, ...(facts.aws ?? {}) });
        facts.backupIntervalHours = cfg.aws.backups.schedule.interval_hours;
    }
    const backupDir = (outputs.backup as { backupDir?: string } | undefined)?.backupDir;
    if (backupDir && cfg.runtime !== "aws") facts.lastLocalBackup = newestEntry(path.resolve(PROJECT_ROOT, backupDir));

    const report = evaluate(facts);
    ctx.print({ healthy: report.healthy, problems: report.problems, ...report.fields }, report.text);
    return report.healthy ? EXIT.ok : EXIT.problems;
}

/** The newest file or directory in dir (a backup), or null when there is none. */
function newestEntry(dir: string): { path: string; time: string } | null {
    if (!fs.existsSync(dir)) return null;
    const entries = fs.readdirSync(dir).map((e) => ({ path: path.join(dir, e), mtime: fs.statSync(path.join(dir, e)).mtimeMs }));
    const newest = entries.sort((a, b) => b.mtime - a.mtime)[0];
    return newest ? { path: newest.path, time: new Date(newest.mtime).toISOString() } : null;
}

/** docker: the container's log; aws/remote have no log on this machine (CloudWatch Logs has the host's). */
function remoteLogs(cfg: StackConfig, outputs: Record<string, unknown>, n: number): string[] {
    const container = (outputs.backup as { containerName?: string } | undefined)?.containerName;
    if (cfg.runtime === "docker" && container) {
        try {
            return execFileSync("docker", ["logs", "--tail", String(n), container], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
                .trimEnd()
                .split("\n");
        } catch (e) {
            return [`(docker logs ${container} failed: ${e instanceof Error ? e.message : String(e)})`];
        }
    }
    return [
        `(--logs reads local runtimes only; ${cfg.runtime} logs are in ${cfg.runtime === "aws" ? `CloudWatch Logs /inner-universe/${cfg.stack}/host` : "the server's own logging"})`,
    ];
}
