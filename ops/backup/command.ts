/**
 * Backups of a stack's database, one interface for every runtime: `npm run ops -- backup
 * create|list|verify|restore|export|import --stack NAME`. Stack facts (root dir, volume, database,
 * token) come from the stack's outputs through the CLI, in the environment ops/env.ts defines.
 * See docs/restore.md.
 */
import * as path from "node:path";
import { find, isBackupId, list, verify } from "../../infra/backup/store";
import { type Command, type Context, type FlagSpec, type Flags, required, UsageError, wholeNumber } from "../cli";
import { PROJECT_ROOT } from "../env";
import { cliOptions, inProject, readStack, type StackFacts, serverControl } from "../stack";
import { createAws, listAws } from "./aws";
import { createContainer, restoreContainer } from "./container";
import { importDatabase } from "./import";
import { createLocal, restoreLocal } from "./local";
import { exportDatabase } from "./logical";
import { restorePointInTime } from "./pitr";

type Verb = "create" | "list" | "verify" | "restore" | "export" | "import";

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

const FLAGS: Record<string, FlagSpec> = {
    dir: { type: "string", value: "DIR", help: "the backup directory (default: the stack's backup output, <state_dir>/backups/<stack>)" },
    id: { type: "string", value: "ID", help: "which backup (default: latest)" },
    keep: { type: "string", value: "N", help: "backups kept after this one (retention)", default: "7" },
    file: { type: "string", value: "FILE.jsonl", help: "the logical export file" },
    "dry-run": { type: "boolean", help: "AWS: print the snapshot request instead of sending it" },
    "from-other-database": {
        type: "boolean",
        help: "import: accept an export whose header names another stack or database than --stack (refused without it: loading prod's rows into staging should be said out loud)",
    },
    "to-offset": { type: "string", value: "N", help: "local: point-in-time restore to transaction offset N (a base backup + the commitlog archive)" },
    "to-time": { type: "string", value: "T", help: "local: point-in-time restore to the latest commit archived at or before T (ISO time)" },
};
/** `--id`: a backup id or `latest`, refused before anything is read when it is anything else (a path, `..`). */
export function backupIdFlag(flags: Flags): string | undefined {
    const id = flags.id;
    if (id === undefined || id === "latest") return undefined;
    if (typeof id !== "string" || !isBackupId(id))
        throw new UsageError(`--id ${JSON.stringify(id)}: a backup id looks like 20261204T031500123Z (npm run ops -- backup list), or latest`);
    return id;
}

/** `--to-offset N` or `--to-time T` (one of them), refused before anything is read when malformed. */
function pointOf(flags: Flags): { toOffset: number } | { toTime: string } | undefined {
    const offset = wholeNumber(flags, "to-offset", 0);
    const time = flags["to-time"];
    if (offset !== undefined && time !== undefined) throw new UsageError("--to-offset and --to-time exclude each other");
    if (offset !== undefined) return { toOffset: offset };
    if (time === undefined) return undefined;
    if (typeof time !== "string" || Number.isNaN(Date.parse(time))) throw new UsageError(`--to-time ${JSON.stringify(time)}: expected an ISO time, e.g. 2026-12-04T10:15:00Z`);
    return { toTime: time };
}

/** The backup flags, for the commands that read backups (drill restore too). */
export const pick = (...names: string[]) => Object.fromEntries(names.map((n) => [n, FLAGS[n]!]));

const VERBS: { verb: Verb; summary: string; flags: string[]; example: string }[] = [
    {
        verb: "create",
        summary: "physical backup of the server root (data + JWT keys), sha256 per file; AWS: an EBS snapshot",
        flags: ["dir", "keep", "dry-run"],
        example: "npm run ops -- backup create --stack dev --keep 14",
    },
    { verb: "list", summary: "the stack's backups, newest last", flags: ["dir"], example: "npm run ops -- backup list --stack dev --json" },
    { verb: "verify", summary: "check a backup against its manifest (every file's sha256)", flags: ["dir", "id"], example: "npm run ops -- backup verify --stack dev --id latest" },
    {
        verb: "restore",
        summary: "put a backup back (the current root is kept aside, never deleted)",
        flags: ["dir", "id", "to-offset", "to-time"],
        example: "npm run ops -- backup restore --stack dev --to-time 2026-12-04T10:15:00Z",
    },
    {
        verb: "export",
        summary: "logical export of config, entities, relations, state versions and events (JSON lines)",
        flags: ["file"],
        example: "npm run ops -- backup export --stack dev --file dev.jsonl",
    },
    {
        verb: "import",
        summary: "load a logical export into a fresh, empty database, all or nothing (admins only); the file is checked line by line first",
        flags: ["file", "from-other-database"],
        example: "npm run ops -- backup import --stack staging --file prod.jsonl --from-other-database",
    },
];

export const backupCommands: Command[] = VERBS.map((v) => ({
    path: ["backup", v.verb],
    summary: v.summary,
    examples: [v.example],
    stack: "required",
    json: true,
    flags: pick(...v.flags),
    run: (ctx) => backup(v.verb, ctx),
}));

async function backup(command: Verb, ctx: Context): Promise<number> {
    const values = ctx.flags as { dir?: string; keep?: string; file?: string; "dry-run"?: boolean; "from-other-database"?: boolean };
    const keep = wholeNumber(ctx.flags, "keep", 1) ?? 7;
    const id = backupIdFlag(ctx.flags);
    const file = () => path.resolve(required(ctx.flags, "file", `${command} reads or writes a logical export (FILE.jsonl)`));
    const projectDir = process.env.IU_PROJECT_DIR ?? PROJECT_ROOT;
    const opts = cliOptions(projectDir);
    if (command !== "list" && command !== "verify") ctx.progress(`backup ${command}: stack ${ctx.stack} (reading its outputs through the CLI)…`);
    const facts = await readStack(ctx.stack, opts);
    const log = ctx.progress;
    const print = (v: unknown) => ctx.print(v);
    const dir = () => backupDirOf(facts, values.dir);

    switch (command) {
        case "create": {
            if (facts.target.runtime === "aws") {
                print(await createAws(facts, { keep, dryRun: values["dry-run"]!, now: new Date(), log }));
                return 0;
            }
            const b =
                physical(facts, "create") === "local"
                    ? await createLocal(facts, await serverControl(ctx.stack, opts), { backupDir: dir(), keep, log })
                    : await createContainer(facts, { backupDir: dir(), keep, log });
            print({ id: b.id, dir: b.dir, recoveryPoint: b.manifest.recoveryPoint, ...b.manifest.totals });
            return 0;
        }
        case "list": {
            if (facts.target.runtime === "aws") {
                print(await listAws(facts));
                return 0;
            }
            physical(facts, "list");
            const all = list(dir());
            ctx.print(
                all.map((b) => ({ id: b.id, recoveryPoint: b.manifest.recoveryPoint, ...b.manifest.totals })),
                all.map((b) => `${b.id}  recovery point ${b.manifest.recoveryPoint}  ${b.manifest.totals.files} files  ${b.manifest.totals.bytes} bytes`).join("\n") ||
                    `no backups in ${dir()}`,
            );
            return 0;
        }
        case "verify": {
            physical(facts, "verify");
            const b = find(dir(), id);
            verify(b);
            ctx.print({ id: b.id, verified: true, files: b.manifest.totals.files }, `backup ${b.id}: ${b.manifest.totals.files} files match the manifest (sha256)`);
            return 0;
        }
        case "restore": {
            const point = pointOf(ctx.flags);
            if (point) {
                if (physical(facts, "restore") !== "local") throw new Error("a point-in-time restore is built for local stacks only (so far)");
                if (id) throw new UsageError("--id and --to-offset/--to-time exclude each other: the base backup is chosen by the point");
                print(await restorePointInTime(facts, await serverControl(ctx.stack, opts), { backupDir: dir(), ...point, log }));
                return 0;
            }
            const r =
                physical(facts, "restore") === "local"
                    ? await restoreLocal(facts, await serverControl(ctx.stack, opts), { backupDir: dir(), ...(id ? { id } : {}), log })
                    : await restoreContainer(facts, { backupDir: dir(), ...(id ? { id } : {}), log });
            print({ restored: r.backup.id, recoveryPoint: r.backup.manifest.recoveryPoint, started: r.started, ...(r.previousRoot ? { previousRoot: r.previousRoot } : {}) });
            return 0;
        }
        case "export": {
            print(await exportDatabase(facts, file()));
            return 0;
        }
        case "import": {
            print(await importDatabase(facts, file(), { fromOtherDatabase: values["from-other-database"] === true, log }));
            return 0;
        }
    }
}
