/**
 * The two drills: `drill restore` (the monthly restore drill: the latest backup as a throw-away
 * stack, every row read) and `drill host` (one production host booted by hand from the user data
 * the program renders; the full set of checks is test/e2e/drill.test.ts).
 */
import * as path from "node:path";
import { backupIdFlag, pick } from "../backup/command";
import type { Command } from "../cli";
import { EXIT } from "../cli";
import { PROJECT_ROOT } from "../env";
import { cliOptions, inProject, readStack } from "../stack";
import { hostDrill } from "./host/run";
import { drill } from "./restore";

export const drillCommands: Command[] = [
    {
        path: ["drill", "restore"],
        summary: "the restore drill: a backup restored into a throw-away stack, readiness and every row checked",
        details: "Prints the recovery point, the rows checked and the seconds taken; exit 1 when any check fails.",
        examples: ["npm run ops -- drill restore --stack dev", "npm run ops -- drill restore --stack test --id 20261204T031500123Z --json"],
        stack: "required",
        json: true,
        flags: pick("dir", "id"),
        run: async (ctx) => {
            const id = backupIdFlag(ctx.flags);
            const projectDir = process.env.IU_PROJECT_DIR ?? PROJECT_ROOT;
            const cli = cliOptions(projectDir);
            const facts = await readStack(ctx.stack, cli);
            if (facts.target.runtime !== "local" && facts.target.runtime !== "docker") {
                throw new Error(`drill restore of a ${facts.target.runtime} stack: restore drills run on local and docker backups (AWS: docs/restore.md)`);
            }
            const dir = typeof ctx.flags.dir === "string" ? path.resolve(ctx.flags.dir) : inProject(facts, facts.target.backupDir);
            ctx.progress(`drill restore: restoring ${id ?? "the latest backup"} of ${ctx.stack} into a throw-away stack (about a minute)…`);
            const report = await drill(facts, { backupDir: dir, ...(id ? { id } : {}), cli, log: ctx.progress });
            const { text, ...fields } = report;
            ctx.print(fields, text);
            return report.ok ? EXIT.ok : EXIT.problems;
        },
    },
    {
        path: ["drill", "host"],
        summary: "boot one production host from the program's user data on a blank loop volume, ping it through its TLS front, tear down",
        examples: ["npm run ops -- drill host", "npm run ops -- drill host --keep"],
        stack: "none",
        flags: { keep: { type: "boolean", help: "leave the host running (tear it down by hand)" } },
        run: (ctx) => hostDrill({ keep: ctx.flags.keep === true, progress: ctx.progress, print: (l) => ctx.print(l) }),
    },
];
