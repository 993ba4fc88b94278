import * as fs from "node:fs";
import * as path from "node:path";
import {
    ALB_PROXY_SOCKET,
    CADDY_BIN,
    CADDY_UID,
    CADDY_UNIT,
    CADDYFILE_PATH,
    CW_AGENT_CTL,
    DATA_FSTYPE,
    DEVICE_TIMEOUT_S,
    SERVER_LOG,
    SERVER_UNIT,
    SOCKET_PROXYD,
    STDB_UID,
} from "./constants";

export interface BootstrapOptions {
    /** al2023 (default): dnf and the agent from Amazon's repository; debian: apt and the agent's pinned .deb. */
    os?: "al2023" | "debian";
    cwAgentDeb?: { url: string; sha256: string };
    volumeId: string;
    rootDir: string;
    server: { version: string; port: number; url: string; sha256: string; command: "standalone" | "spacetime" };
    front: { mode: "acme"; caddy: { url: string; sha256: string } } | { mode: "alb" };
    cwAgentParameter: string;
    /** How long to wait for the attachment (default DEVICE_TIMEOUT_S). */
    deviceTimeoutS?: number;
}

/**
 * The body without its comment lines (they explain the template in the repo) and indented with
 * tabs: EC2 user data is capped at 16 KiB, and a Debian host in the largest configuration needs both.
 */
const BODY = fs
    .readFileSync(path.join(__dirname, "bootstrap.sh"), "utf8")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .map((line) => line.replace(/^(?: {4})+/, (indent) => "\t".repeat(indent.length / 4)))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n");

/**
 * The host bootstrap: settings (every value already validated by the config schema, and quoted
 * here anyway) followed by the fixed body in bootstrap.sh. Holds no secrets: user data is
 * readable by anyone allowed ec2:DescribeInstanceAttribute.
 */
export function renderBootstrap(o: BootstrapOptions): string {
    const acme = o.front.mode === "acme";
    if (o.os === "debian" && !o.cwAgentDeb) throw new Error("a debian host needs the CloudWatch agent's .deb (aws.cloudwatch_agent_deb)");
    const settings: [string, string | number][] = [
        ["HOST_OS", o.os ?? "al2023"],
        ["VOLUME_ID", o.volumeId],
        ["MOUNT_POINT", o.rootDir],
        ["FS_TYPE", DATA_FSTYPE],
        ["DEVICE_TIMEOUT_S", o.deviceTimeoutS ?? DEVICE_TIMEOUT_S],
        ["STDB_VERSION", o.server.version],
        ["STDB_URL", o.server.url],
        ["STDB_SHA256", o.server.sha256],
        ["STDB_COMMAND", o.server.command],
        ["STDB_PORT", o.server.port],
        ["STDB_UID", STDB_UID],
        ["SERVER_UNIT", SERVER_UNIT],
        ["UNIT_DIR", "/etc/systemd/system"],
        // /v1/ping tries, 2 s apart: the first start of a large root replays its commitlog.
        ["READY_RETRIES", 60],
        ["SERVER_LOG_DIR", path.posix.dirname(SERVER_LOG)],
        ["FRONT", o.front.mode],
        // Only the chosen front's settings have values: an alb host never learns of Caddy.
        ["CADDY_URL", o.front.mode === "acme" ? o.front.caddy.url : ""],
        ["CADDY_SHA256", o.front.mode === "acme" ? o.front.caddy.sha256 : ""],
        ["CADDY_UID", acme ? CADDY_UID : ""],
        ["CADDY_BIN", acme ? CADDY_BIN : ""],
        ["CADDY_UNIT", acme ? CADDY_UNIT : ""],
        ["CADDYFILE", acme ? CADDYFILE_PATH : ""],
        ["ALB_PROXY_SOCKET", acme ? "" : ALB_PROXY_SOCKET],
        ["SOCKET_PROXYD", acme ? "" : SOCKET_PROXYD],
        ["CW_AGENT_CTL", CW_AGENT_CTL],
        ["CW_AGENT_DEB_URL", o.os === "debian" ? o.cwAgentDeb!.url : ""],
        ["CW_AGENT_DEB_SHA256", o.os === "debian" ? o.cwAgentDeb!.sha256 : ""],
        ["CW_AGENT_PARAMETER", o.cwAgentParameter],
    ];
    return [
        "#!/bin/bash",
        "# inner-universe host bootstrap, rendered by infra/aws/render/bootstrap.ts",
        "set -euo pipefail",
        "umask 022",
        "",
        ...settings.map(([k, v]) => `readonly ${k}=${shellQuote(String(v))}`),
        "",
        BODY,
    ].join("\n");
}

export function shellQuote(v: string): string {
    return `'${v.replace(/'/g, `'\\''`)}'`;
}
