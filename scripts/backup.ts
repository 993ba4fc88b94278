/**
 * Backups of a stack's database, one interface for every runtime:
 *   npm run backup -- create  --stack NAME [--dir DIR] [--keep N] [--dry-run]
 *   npm run backup -- list    --stack NAME [--dir DIR]
 *   npm run backup -- verify  --stack NAME [--dir DIR] [--id ID|latest]
 *   npm run backup -- restore --stack NAME [--dir DIR] [--id ID|latest]
 *   npm run backup -- export  --stack NAME --file FILE.jsonl
 *   npm run backup -- import  --stack NAME --file FILE.jsonl
 *   npm run backup -- drill   --stack NAME [--dir DIR] [--id ID|latest]
 * Stack facts (root dir, volume, database, token) come from the stack's outputs through the CLI,
 * in the environment scripts/lib/pulumi-env.sh gives it. See docs/restore.md.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { createAws, listAws } from "./lib/backup/aws";
import { createContainer, restoreContainer } from "./lib/backup/container";
import { drill } from "./lib/backup/drill";
import { createLocal, restoreLocal } from "./lib/backup/local";
import { exportDatabase, importDatabase } from "./lib/backup/logical";
import { cliOptions, inProject, readStack, type StackFacts, serverControl } from "./lib/backup/stack";
import { find, list, verify } from "./lib/backup/store";
import { PROJECT_ROOT } from "./lib/engine";

const COMMANDS = ["create", "list", "verify", "restore", "export", "import", "drill"] as const;
type Command = (typeof COMMANDS)[number];

function backupDirOf(facts: StackFacts, dir: string | undefined): string {
    return dir ? path.resolve(dir) : inProject(facts, facts.target.backupDir);
}

function physical(facts: StackFacts, what: string): "local" | "docker" {
    const r = facts.target.runtime;
    if (r === "local" || r === "docker") return r;
    throw new Error(
        `${what} of a ${r} stack: ${r === "aws" ? "snapshots are EBS snapshots (create/list); restore with aws.data_volume.snapshot_id (docs/restore.md)" : "the server root is not ours; use export/import"}`,
    );
}

async function main(argv: string[]): Promise<number> {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            stack: { type: "string" },
            dir: { type: "string" },
            id: { type: "string" },
            keep: { type: "string", default: "7" },
            file: { type: "string" },
            "dry-run": { type: "boolean", default: false },
            json: { type: "boolean", default: false },
        },
    });
    const command = positionals[0] as Command | undefined;
    if (!command || !COMMANDS.includes(command)) throw new Error(`usage: npm run backup -- ${COMMANDS.join("|")} --stack NAME (got ${JSON.stringify(command ?? "")})`);
    if (!values.stack) throw new Error("--stack is required (the Pulumi stack whose database to back up, e.g. --stack dev)");
    const keep = Number(values.keep);
    if (!Number.isInteger(keep) || keep < 1) throw new Error(`--keep: expected an integer ≥ 1, got ${values.keep}`);
    const projectDir = process.env.IU_PROJECT_DIR ?? PROJECT_ROOT;
    const opts = cliOptions(projectDir);
    const facts = await readStack(values.stack, opts);
    const log = (l: string) => console.error(l);
    const print = (v: unknown) => console.log(typeof v === "string" ? v : JSON.stringify(v, null, 2));
    const dir = () => backupDirOf(facts, values.dir);

    switch (command) {
        case "create": {
            if (facts.target.runtime === "aws") {
                print(createAws(facts, { keep, dryRun: values["dry-run"]!, now: new Date(), log }));
                return 0;
            }
            const b =
                physical(facts, "create") === "local"
                    ? await createLocal(facts, await serverControl(values.stack, opts), { backupDir: dir(), keep, log })
                    : await createContainer(facts, { backupDir: dir(), keep, log });
            print({ id: b.id, dir: b.dir, recoveryPoint: b.manifest.recoveryPoint, ...b.manifest.totals });
            return 0;
        }
        case "list": {
            if (facts.target.runtime === "aws") {
                print(listAws(facts));
                return 0;
            }
            physical(facts, "list");
            const all = list(dir());
            print(
                values.json
                    ? all.map((b) => ({ id: b.id, recoveryPoint: b.manifest.recoveryPoint, ...b.manifest.totals }))
                    : all.map((b) => `${b.id}  recovery point ${b.manifest.recoveryPoint}  ${b.manifest.totals.files} files  ${b.manifest.totals.bytes} bytes`).join("\n") ||
                          `no backups in ${dir()}`,
            );
            return 0;
        }
        case "verify": {
            physical(facts, "verify");
            const b = find(dir(), values.id);
            verify(b);
            print(`backup ${b.id}: ${b.manifest.totals.files} files match the manifest (sha256)`);
            return 0;
        }
        case "restore": {
            const r =
                physical(facts, "restore") === "local"
                    ? await restoreLocal(facts, await serverControl(values.stack, opts), { backupDir: dir(), ...(values.id ? { id: values.id } : {}), log })
                    : await restoreContainer(facts, { backupDir: dir(), ...(values.id ? { id: values.id } : {}), log });
            print({ restored: r.backup.id, recoveryPoint: r.backup.manifest.recoveryPoint, ...(r.previousRoot ? { previousRoot: r.previousRoot } : {}) });
            return 0;
        }
        case "export": {
            if (!values.file) throw new Error("export: --file FILE.jsonl is required");
            print(await exportDatabase(facts, path.resolve(values.file)));
            return 0;
        }
        case "import": {
            if (!values.file) throw new Error("import: --file FILE.jsonl is required");
            print(await importDatabase(facts, path.resolve(values.file), log));
            return 0;
        }
        case "drill": {
            physical(facts, "drill");
            const report = await drill(facts, { backupDir: dir(), ...(values.id ? { id: values.id } : {}), cli: opts, log });
            print(report.text);
            return report.ok ? 0 : 1;
        }
    }
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
