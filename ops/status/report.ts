import { type AtlasOutput, atlasOutputSchema } from "../../infra/contract/atlas";
import { type ArchiveFacts, archiveProblems } from "./archive";
import type { AwsFacts } from "./aws";
import type { Forecast } from "./growth";
import type { LocalFacts } from "./local";
import type { ServerFacts } from "./probe";

/**
 * `status` of any stack: facts are gathered elsewhere (status-probe.ts over HTTP and TLS,
 * status-local.ts on this machine); this file judges them. Pure, table-tested: every problem
 * names what is wrong, and the report is healthy only without problems.
 */

export interface StatusFacts {
    stack: string;
    runtime: string;
    last?: { kind: string; result: string; endTime?: string; startTime: string };
    /** The stack's atlas output as the CLI returned it (validated here). */
    atlasOutput: unknown;
    server?: ServerFacts;
    local?: LocalFacts;
    /** Local stacks on disk: the point-in-time archive beside the server (ops/status/archive.ts). */
    archive?: ArchiveFacts;
    /** AWS stacks: the ids in the stack's outputs. */
    aws?: { instanceId?: string; dataVolumeId?: string; alarmTopicArn?: string; dnsTarget?: string };
    /** AWS stacks: what the AWS APIs say (ops/status/aws.ts), and the snapshot interval it is judged by. */
    awsState?: AwsFacts;
    backupIntervalHours?: number;
    /** Local and container stacks: the newest entry of the backup directory, if any. */
    lastLocalBackup?: { path: string; time: string } | null;
    logs?: string[];
}

export interface StatusReport {
    healthy: boolean;
    problems: string[];
    fields: Record<string, unknown>;
    text: string;
}

/**
 * Below this share of its lifetime left a certificate is a problem: ACME clients and Caddy's own CA
 * renew with a third left (30 of 90 days; 4 of Caddy's 12 internal hours), so at a sixth renewal has
 * been failing for a while. A fraction, not days: the local front's certificates live 12 hours.
 */
export const CERT_MIN_REMAINING = 1 / 6;
/** Below this share of free space on the data filesystem (the commitlog is never pruned). */
export const DISK_MIN_FREE_PERCENT = 10;

const short = (h: string) => `${h.slice(0, 12)}…`;

/** Fewer days than this until the data filesystem is full is a problem (time to grow the volume). */
export const MIN_DAYS_UNTIL_FULL = 14;

function growthField(g: Forecast | undefined, where: string) {
    if (!g) return { daysUntilFull: null, note: `not enough history yet (status records ${where}'s size each run; a rate needs an hour of samples)` };
    return { daysUntilFull: g.daysUntilFull, bytesPerDay: g.bytesPerDay, samples: g.samples, spanHours: g.spanHours };
}

function shortRunway(g: Forecast | undefined): string | undefined {
    if (g?.daysUntilFull === null || g?.daysUntilFull === undefined || g.daysUntilFull >= MIN_DAYS_UNTIL_FULL) return undefined;
    return `disk: full in ${g.daysUntilFull} days at ${g.bytesPerDay} bytes/day (the commitlog is never pruned): grow the volume`;
}

export function evaluate(f: StatusFacts): StatusReport {
    const problems: string[] = [];
    const fields: Record<string, unknown> = { stack: f.stack, runtime: f.runtime };
    if (f.last) fields.lastUpdate = `${f.last.kind} ${f.last.result} at ${f.last.endTime ?? f.last.startTime}`;
    if (f.last && f.last.result !== "succeeded") problems.push(`last update: ${f.last.kind} ${f.last.result}`);

    const parsed = atlasOutputSchema.safeParse(f.atlasOutput);
    const atlas: AtlasOutput | undefined = parsed.success ? parsed.data : undefined;
    if (!atlas) problems.push("atlas output: missing or invalid (run up)");
    else fields.endpoint = { http: atlas.http.url, ws: atlas.ws.url, database: atlas.database.name };

    if (f.local) {
        const l = f.local;
        fields.server = { pid: l.pid ?? null, running: l.running, pidFile: l.pidFile };
        if (!l.pid) problems.push(`server: no pid in ${l.pidFile} (not started, or stopped)`);
        else if (!l.running) problems.push(`server: process ${l.pid} from ${l.pidFile} is not running`);
        fields.dataDir = { path: l.rootDir, bytes: l.rootBytes ?? null };
        if (l.rootBytes === undefined) problems.push(`data dir: ${l.rootDir} does not exist`);
        if (l.disk) {
            fields.disk = l.disk;
            if (l.disk.freePercent < DISK_MIN_FREE_PERCENT) problems.push(`disk: only ${l.disk.freePercent}% free on the filesystem of ${l.rootDir}`);
        }
        fields.growth = growthField(l.growth, l.rootDir);
        const runway = shortRunway(l.growth);
        if (runway) problems.push(runway);
    }
    if (f.archive) {
        fields.archive = { dir: f.archive.dir, running: f.archive.running, replicas: f.archive.replicas };
        problems.push(...archiveProblems(f.archive));
    }

    const s = f.server;
    if (s) {
        fields.health = s.health.status !== undefined ? { url: s.health.url, status: s.health.status } : { url: s.health.url, error: s.health.error };
        if (s.health.status !== 200) problems.push(`health: ${s.health.url} ${s.health.status !== undefined ? `answered ${s.health.status}` : `unreachable (${s.health.error})`}`);

        fields.version = { running: s.version.running ?? null, stack: atlas?.server.version ?? null, ...(s.version.error ? { error: s.version.error } : {}) };
        if (s.version.running && atlas && s.version.running !== atlas.server.version)
            problems.push(`version: the server runs ${s.version.running}, the stack says ${atlas.server.version}`);

        fields.module = { running: s.module.sha256 ?? null, stack: atlas?.module.sha256 ?? null, ...(s.module.error ? { error: s.module.error } : {}) };
        if (s.module.sha256 && atlas && s.module.sha256 !== atlas.module.sha256) {
            problems.push(
                `module: the server runs ${short(s.module.sha256)} but the stack published ${short(atlas.module.sha256)} (published outside the stack? run up to restore it)`,
            );
        }
        if (!s.module.sha256 && s.health.status === 200) problems.push(`module: cannot read the running module (${s.module.error})`);

        fields.database = {
            identity: s.database.identity ?? null,
            stack: atlas?.database.identity ?? null,
            owner: s.database.owner ?? null,
            ...(s.database.error ? { error: s.database.error } : {}),
        };
        if (s.database.identity && atlas?.database.identity && s.database.identity !== atlas.database.identity) {
            problems.push(
                `database: ${atlas.database.name} is ${short(s.database.identity)} on the server, the stack created ${short(atlas.database.identity)} (recreated outside the stack?)`,
            );
        }

        fields.rows = s.rows.counts ?? { error: s.rows.error };
        if (s.tls) {
            if ("error" in s.tls && !("daysLeft" in s.tls)) {
                fields.tls = { error: s.tls.error };
                problems.push(`tls: ${s.tls.error}`);
            } else {
                const c = s.tls as Exclude<ServerFacts["tls"], { error: string } | undefined> & { error?: string };
                fields.tls = {
                    subject: c.subject,
                    issuer: c.issuer,
                    validFrom: c.validFrom,
                    validTo: c.validTo,
                    daysLeft: c.daysLeft,
                    remainingFraction: c.remainingFraction,
                    trusted: c.trusted,
                };
                if (c.remainingFraction <= 0) problems.push(`tls: the certificate of ${c.subject || "the endpoint"} has expired (${c.validTo})`);
                else if (c.remainingFraction < CERT_MIN_REMAINING) {
                    problems.push(
                        `tls: the certificate of ${c.subject || "the endpoint"} expires ${c.validTo} with ${Math.round(c.remainingFraction * 100)}% of its lifetime left: renewal is failing`,
                    );
                }
                if (!c.trusted) problems.push(`tls: the certificate is not trusted (${c.error ?? "unknown issuer"})`);
            }
        }
    }
    if (f.aws) fields.aws = f.aws;
    const st = f.awsState;
    if (st) {
        for (const e of st.errors) problems.push(`aws: ${e}`);
        if (st.instance) {
            fields.instance = st.instance;
            if (st.instance.state !== "running") problems.push(`instance: ${f.aws?.instanceId ?? "the host"} is ${st.instance.state}`);
            else if ([st.instance.system, st.instance.instance].some((x) => x !== "ok" && x !== "initializing")) {
                problems.push(`instance: status checks system=${st.instance.system} instance=${st.instance.instance}`);
            }
        } else if (f.aws?.instanceId && st.errors.length === 0) problems.push(`instance: ${f.aws.instanceId} not found`);
        if (f.aws?.instanceId) {
            // disk_used_percent is a share: the rate is in percentage points a day.
            fields.growth = st.growth
                ? { daysUntilFull: st.growth.daysUntilFull, percentPerDay: st.growth.bytesPerDay, samples: st.growth.samples, spanHours: st.growth.spanHours }
                : { daysUntilFull: null, note: "no disk_used_percent history for the data volume yet" };
            if (st.growth?.daysUntilFull !== null && st.growth?.daysUntilFull !== undefined && st.growth.daysUntilFull < MIN_DAYS_UNTIL_FULL) {
                problems.push(`disk: the data volume is full in ${st.growth.daysUntilFull} days at ${st.growth.bytesPerDay} percentage points/day: raise aws.data_volume.size_gb`);
            }
        }
        if (st.alarms) {
            fields.alarms = st.alarms.map((a) => `${a.name}=${a.state}`);
            for (const a of st.alarms.filter((x) => x.state === "ALARM")) problems.push(`alarm: ${a.name} is in ALARM (${a.reason})`);
        }
        if (st.lastSnapshot !== undefined) {
            fields.lastBackup = st.lastSnapshot ?? "none yet";
            const snap = st.lastSnapshot;
            if (snap && snap.state === "error") problems.push(`backup: snapshot ${snap.id} failed`);
            const ageHours = snap ? (Date.now() - Date.parse(snap.startTime)) / 3_600_000 : 0;
            if (snap && f.backupIntervalHours && ageHours > 2 * f.backupIntervalHours) {
                problems.push(`backup: the newest snapshot ${snap.id} is ${Math.round(ageHours)} h old; DLM should take one every ${f.backupIntervalHours} h`);
            }
        }
    }
    if (f.lastLocalBackup !== undefined) fields.lastBackup = f.lastLocalBackup ?? "none yet";
    if (f.logs) fields.logs = f.logs;
    return { healthy: problems.length === 0, problems, fields, text: formatText(fields, problems) };
}

function formatText(fields: Record<string, unknown>, problems: string[]): string {
    const lines: string[] = [];
    for (const [k, v] of Object.entries(fields)) {
        if (k === "logs") continue;
        lines.push(`${k}: ${typeof v === "object" && v !== null ? inline(v as Record<string, unknown>) : String(v)}`);
    }
    lines.push(problems.length === 0 ? "healthy" : `UNHEALTHY:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    const logs = fields.logs as string[] | undefined;
    if (logs) lines.push(`last ${logs.length} log lines:`, ...logs.map((l) => `  ${l}`));
    return lines.join("\n");
}

function inline(o: Record<string, unknown>): string {
    return Object.entries(o)
        .map(([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`)
        .join(" ");
}
