import { createHash, createHmac } from "node:crypto";

/**
 * What AWS says about a prod stack, read with three query-protocol calls signed with SigV4 (fetch
 * plus node:crypto; no SDK in this project): the instance's status checks (EC2
 * DescribeInstanceStatus), the alarms that notify the stack's topic (CloudWatch DescribeAlarms
 * with ActionPrefix = the topic ARN, so only this stack's), and the newest snapshot of the data
 * volume (EC2 DescribeSnapshots). Credentials from the standard environment variables.
 * Request building and answer parsing are pure and tested against recorded shapes.
 */

export interface Credentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface SignInput {
    method: string;
    url: URL;
    headers: Record<string, string>;
    body: string;
    region: string;
    service: string;
    credentials: Credentials;
    /** yyyymmddThhmmssZ */
    amzDate: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s).digest();
/** RFC 3986 encoding, as SigV4's canonical query wants it. */
const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The Authorization header of AWS Signature Version 4 (headers must include host and x-amz-date). */
export function signV4(i: SignInput): string {
    const names = Object.keys(i.headers)
        .map((h) => h.toLowerCase())
        .sort();
    const lower = Object.fromEntries(Object.entries(i.headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, " ")]));
    const query = [...i.url.searchParams.entries()]
        .map(([k, v]) => [enc(k), enc(v)] as const)
        .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
    const canonical = [
        i.method,
        i.url.pathname || "/",
        query.map(([k, v]) => `${k}=${v}`).join("&"),
        names.map((h) => `${h}:${lower[h]}\n`).join(""),
        names.join(";"),
        sha256(i.body),
    ].join("\n");
    const date = i.amzDate.slice(0, 8);
    const scope = `${date}/${i.region}/${i.service}/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", i.amzDate, scope, sha256(canonical)].join("\n");
    const key = hmac(hmac(hmac(hmac(`AWS4${i.credentials.secretAccessKey}`, date), i.region), i.service), "aws4_request");
    const signature = createHmac("sha256", key).update(toSign).digest("hex");
    return `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
}

export interface QueryRequest {
    url: string;
    service: "ec2" | "monitoring";
    region: string;
    body: string;
}

/** An AWS query-protocol call: a form-encoded POST to the regional endpoint. */
export function queryRequest(service: QueryRequest["service"], region: string, action: string, params: Record<string, string>): QueryRequest {
    const version = service === "ec2" ? "2016-11-15" : "2010-08-01";
    const body = new URLSearchParams({ Action: action, Version: version, ...params }).toString();
    return { url: `https://${service}.${region}.amazonaws.com/`, service, region, body };
}

export const instanceStatusRequest = (region: string, instanceId: string) =>
    queryRequest("ec2", region, "DescribeInstanceStatus", { "InstanceId.1": instanceId, IncludeAllInstances: "true" });
export const alarmsRequest = (region: string, topicArn: string) =>
    queryRequest("monitoring", region, "DescribeAlarms", { ActionPrefix: topicArn, "AlarmTypes.member.1": "MetricAlarm", MaxRecords: "100" });
export const snapshotsRequest = (region: string, volumeId: string) =>
    queryRequest("ec2", region, "DescribeSnapshots", { "Filter.1.Name": "volume-id", "Filter.1.Value.1": volumeId, "Owner.1": "self" });

const texts = (xml: string, tag: string) => [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, "g"))].map((m) => decodeXml(m[1]!));
const block = (xml: string, tag: string) => xml.match(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`))?.[1] ?? "";

function decodeXml(s: string): string {
    return s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}

/** An error answer (`<Error><Code>…</Code><Message>…</Message>`) as one line, or undefined. */
export function awsError(xml: string): string | undefined {
    const code = texts(xml, "Code")[0];
    return code ? `${code}: ${texts(xml, "Message")[0] ?? ""}` : undefined;
}

export interface InstanceStatus {
    state: string;
    system: string;
    instance: string;
}

export function parseInstanceStatus(xml: string): InstanceStatus | undefined {
    const item = block(xml, "instanceStatusSet");
    if (!item.includes("<item>")) return undefined;
    return {
        state: texts(block(item, "instanceState"), "name")[0] ?? "",
        system: texts(block(item, "systemStatus"), "status")[0] ?? "",
        instance: texts(block(item, "instanceStatus"), "status")[0] ?? "",
    };
}

export interface AlarmState {
    name: string;
    state: string;
    reason: string;
}

/** Every MetricAlarm has exactly one AlarmName, StateValue and StateReason, in that order. */
export function parseAlarms(xml: string): AlarmState[] {
    const members = block(xml, "MetricAlarms");
    const names = texts(members, "AlarmName");
    const states = texts(members, "StateValue");
    const reasons = texts(members, "StateReason");
    if (names.length !== states.length) throw new Error("DescribeAlarms answer with alarms missing a StateValue");
    return names.map((name, i) => ({ name, state: states[i]!, reason: reasons[i] ?? "" }));
}

export interface SnapshotFacts {
    id: string;
    startTime: string;
    state: string;
}

/** The newest snapshot (by startTime) of DescribeSnapshots' snapshotSet. */
export function parseNewestSnapshot(xml: string): SnapshotFacts | undefined {
    const set = block(xml, "snapshotSet");
    const items = set.split(/<item>\s*(?=<snapshotId>)/).slice(1);
    const snaps = items.map((it) => ({ id: texts(it, "snapshotId")[0] ?? "", startTime: texts(it, "startTime")[0] ?? "", state: texts(it, "status")[0] ?? "" }));
    return snaps.sort((a, b) => Date.parse(b.startTime) - Date.parse(a.startTime))[0];
}

export interface AwsFacts {
    instance?: InstanceStatus;
    alarms?: AlarmState[];
    lastSnapshot?: SnapshotFacts | null;
    errors: string[];
}

export type Send = (req: QueryRequest, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

const fetchSend: Send = async (req, headers) => {
    const res = await fetch(req.url, { method: "POST", headers, body: req.body, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
};

export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
    if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
    return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

/** Signs and sends one query call; resolves with the answer body or rejects naming the AWS error. */
export async function call(req: QueryRequest, credentials: Credentials, send: Send = fetchSend, now: Date = new Date()): Promise<string> {
    const amzDate = now
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
    const url = new URL(req.url);
    const headers: Record<string, string> = {
        host: url.host,
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "x-amz-date": amzDate,
        ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
    };
    const authorization = signV4({ method: "POST", url, headers, body: req.body, region: req.region, service: req.service, credentials, amzDate });
    const { host: _host, ...sent } = headers;
    const res = await send(req, { ...sent, authorization });
    if (res.status !== 200) throw new Error(`${new URLSearchParams(req.body).get("Action")} answered ${res.status}${awsError(res.body) ? ` (${awsError(res.body)})` : ""}`);
    return res.body;
}

export async function awsFacts(
    o: { region: string; instanceId?: string; dataVolumeId?: string; alarmTopicArn?: string },
    credentials: Credentials | undefined,
    send: Send = fetchSend,
): Promise<AwsFacts> {
    const facts: AwsFacts = { errors: [] };
    if (!credentials) {
        facts.errors.push("no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN)");
        return facts;
    }
    const why = (e: unknown) => facts.errors.push(e instanceof Error ? e.message : String(e));
    await Promise.all([
        o.instanceId ? call(instanceStatusRequest(o.region, o.instanceId), credentials, send).then((x) => void (facts.instance = parseInstanceStatus(x)), why) : undefined,
        o.alarmTopicArn ? call(alarmsRequest(o.region, o.alarmTopicArn), credentials, send).then((x) => void (facts.alarms = parseAlarms(x)), why) : undefined,
        o.dataVolumeId
            ? call(snapshotsRequest(o.region, o.dataVolumeId), credentials, send).then((x) => void (facts.lastSnapshot = parseNewestSnapshot(x) ?? null), why)
            : undefined,
    ]);
    return facts;
}
