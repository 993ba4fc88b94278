import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { hostSpec } from "../../../infra/aws/hostSpec";
import { renderBootstrap, shellQuote } from "../../../infra/aws/render/bootstrap";
import { coveringCidrs } from "../../../infra/aws/render/cidr";
import { hostFiles, renderUserData } from "../../../infra/aws/render/cloudInit";
import { BOOTSTRAP_PATH, DATA_FSTYPE, ebsByIdPath } from "../../../infra/aws/render/constants";
import { emittedMetric, renderCwAgentConfig } from "../../../infra/aws/render/cwAgentConfig";
import { renderAlbProxyUnits, renderCaddyUnit, renderServerUnit, serverExecStart } from "../../../infra/aws/render/systemdUnit";
import { specs, VOLUME_ID } from "../../support/awsSpecs";
import { prodConfig } from "../../support/awsStack";

const file = (spec: keyof typeof specs, path: string) => {
    const f = hostFiles(specs[spec]!).find((x) => x.path === path);
    if (!f) throw new Error(`no ${path}`);
    return f.content;
};

describe("server command line", () => {
    const base = { rootDir: "/stdb", version: "1.2.0", port: 3000, environment: "prod" };
    it.each([
        [
            "standalone",
            "/stdb/bin/1.2.0/spacetimedb-standalone start --data-dir /stdb/data --jwt-pub-key-path /stdb/config/id_ecdsa.pub --jwt-priv-key-path /stdb/config/id_ecdsa --listen-addr 127.0.0.1:3000",
        ],
        ["spacetime", "/usr/local/bin/spacetime --root-dir=/stdb start --listen-addr 127.0.0.1:3000"],
    ] as const)("%s", (command, expected) => {
        expect(serverExecStart({ ...base, command })).toBe(expected);
        expect(renderServerUnit({ ...base, command })).toContain(`ExecStart=${expected}\n`);
    });
});

describe("spacetimedb.service", () => {
    const unit = file("acme", "/etc/systemd/system/spacetimedb.service");
    it.each([
        "KillSignal=SIGINT",
        "Restart=always",
        "StandardOutput=journal",
        "StandardError=journal",
        "SyslogIdentifier=spacetimedb",
        "User=spacetimedb",
        "RequiresMountsFor=/stdb",
        "AssertPathIsMountPoint=/stdb",
        "WantedBy=multi-user.target",
        "ReadWritePaths=/stdb",
    ])("has %s", (line) => expect(unit.split("\n")).toContain(line));
    it("listens on loopback only", () => {
        expect(unit).toContain("--listen-addr 127.0.0.1:3000");
        expect(unit).not.toMatch(/0\.0\.0\.0/);
    });
    it("keeps data and the JWT keypair under the volume mount", () => {
        expect(unit).toContain("--data-dir /stdb/data");
        expect(unit).toContain("--jwt-priv-key-path /stdb/config/id_ecdsa");
    });
});

describe("front units", () => {
    it("acme: Caddy as an unprivileged user with only the bind capability, state on the volume", () => {
        const unit = renderCaddyUnit({ dataDir: "/stdb/caddy" });
        expect(unit).toContain("User=caddy");
        expect(unit).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE");
        expect(unit).toContain("Environment=XDG_DATA_HOME=/stdb/caddy/data XDG_CONFIG_HOME=/stdb/caddy/config");
        expect(unit).toContain("ExecStart=/usr/local/bin/caddy run --config /etc/caddy/Caddyfile --adapter caddyfile");
    });
    it("alb: a socket-activated relay to loopback, connection limit from server.max_connections", () => {
        const { socket, service } = renderAlbProxyUnits({ targetPort: 3080, serverPort: 3000, maxConnections: 100 });
        expect(socket).toContain("ListenStream=3080");
        expect(service).toContain("ExecStart=/usr/lib/systemd/systemd-socket-proxyd --connections-max=100 127.0.0.1:3000");
        expect(service).toContain("DynamicUser=yes");
    });
});

describe("user data", () => {
    it.each(Object.keys(specs))("%s: #cloud-config whose files round-trip exactly and whose runcmd runs the bootstrap", (name) => {
        const spec = specs[name]!;
        const text = renderUserData(spec);
        expect(text.startsWith("#cloud-config\n")).toBe(true);
        const doc = parse(text) as { write_files: { path: string; content: string; permissions: string; owner: string; encoding?: string }[]; runcmd: string[][] };
        // What cloud-init writes: gz+b64 entries decoded.
        const written = doc.write_files.map((f) => ({
            path: f.path,
            content: f.encoding === "gz+b64" ? gunzipSync(Buffer.from(f.content, "base64")).toString("utf8") : f.content,
            permissions: f.permissions,
        }));
        expect(written).toEqual(hostFiles(spec));
        expect(doc.write_files.filter((f) => f.encoding).map((f) => [f.path, f.encoding])).toEqual([[BOOTSTRAP_PATH, "gz+b64"]]);
        expect(doc.write_files.every((f) => f.owner === "root:root")).toBe(true);
        expect(doc.runcmd).toEqual([[BOOTSTRAP_PATH]]);
    });

    it.each(Object.keys(specs))("%s: fits EC2's 16 KiB user data limit", (name) => {
        expect(Buffer.byteLength(renderUserData(specs[name]!))).toBeLessThan(16 * 1024);
    });

    it("stays under the limit in the largest configuration the schema allows (10 deploy CIDRs, call and sql exposed)", () => {
        const cfg = prodConfig({ tls: { expose_call: true, expose_sql: true }, aws: { deploy_cidrs: Array.from({ length: 10 }, (_, i) => `198.51.${100 + i}.0/24`) } });
        expect(Buffer.byteLength(renderUserData(hostSpec(cfg, VOLUME_ID)))).toBeLessThan(16 * 1024);
    });

    it("acme writes Caddy's files, alb the relay units, never both", () => {
        const acme = hostFiles(specs.acme!).map((f) => f.path);
        const alb = hostFiles(specs.alb!).map((f) => f.path);
        expect(acme).toEqual(expect.arrayContaining(["/etc/caddy/Caddyfile", "/etc/systemd/system/caddy.service"]));
        expect(acme.some((p) => p.includes("alb-proxy"))).toBe(false);
        expect(alb).toEqual(expect.arrayContaining(["/etc/systemd/system/stdb-alb-proxy.socket", "/etc/systemd/system/stdb-alb-proxy.service"]));
        expect(alb.some((p) => p.includes("caddy"))).toBe(false);
    });

    it("the prod Caddyfile serves the domain with Let's Encrypt and admits publish routes only from deploy CIDRs", () => {
        const caddyfile = file("acme", "/etc/caddy/Caddyfile");
        expect(caddyfile).toContain("\temail ops@inner-universe.example");
        expect(caddyfile).toContain("db.inner-universe.example {");
        expect(caddyfile).not.toContain("tls internal");
        expect(caddyfile).not.toMatch(/\bbind\b/);
        expect(caddyfile).toContain("reverse_proxy 127.0.0.1:3000");
        expect(caddyfile).toContain("remote_ip 203.0.113.0/28");
        expect(caddyfile).toContain("output file /var/log/caddy/access.log");
        expect(caddyfile).not.toMatch(/metrics|internal|prometheus/);
    });
});

describe("bootstrap", () => {
    const script = file("acme", BOOTSTRAP_PATH);
    it("carries the volume id and derives the NVMe by-id link from it", () => {
        expect(script).toContain(`readonly VOLUME_ID='${VOLUME_ID}'`);
        expect(script).toContain('link="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${VOLUME_ID//-/}"');
        expect(ebsByIdPath(VOLUME_ID)).toBe("/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0");
    });
    it("verifies the pinned release by sha256 before unpacking it", () => {
        expect(script).toContain(`readonly STDB_SHA256='${"0".repeat(64)}'`);
        expect(script).toContain("sha256sum --check --quiet -");
        expect(script.indexOf('fetch_verified "$STDB_URL" "$STDB_SHA256"')).toBeLessThan(script.indexOf('tar --no-same-owner -xzf "$work/release.tar.gz"'));
    });
    it("mounts through fstab with nofail, by filesystem UUID", () => {
        expect(script).toContain("defaults,noatime,nofail,x-systemd.device-timeout=5min 0 0");
        expect(script).toContain(`readonly FS_TYPE='${DATA_FSTYPE}'`);
    });
    it("puts the whole root (data, keys, binaries, Caddy state) under the mount", () => {
        for (const dir of ['"$MOUNT_POINT/data"', '"$MOUNT_POINT/config"', '"$MOUNT_POINT/bin/$STDB_VERSION"', '"$MOUNT_POINT/caddy"']) expect(script).toContain(dir);
        expect(script).toContain("readonly MOUNT_POINT='/stdb'");
    });
    it("has no secrets to hide: no token, key or password setting", () => {
        expect(script).not.toMatch(/token=|password|BEGIN .*PRIVATE KEY|AKIA/i);
    });
    it("quotes settings for the shell", () => {
        expect(shellQuote("it's")).toBe(`'it'\\''s'`);
        const odd = renderBootstrap({ ...specs.alb!, server: { ...specs.alb!.server, url: "https://x/a'b.tar.gz" }, front: { mode: "alb" } });
        expect(odd).toContain(`readonly STDB_URL='https://x/a'\\''b.tar.gz'`);
    });
});

describe("CloudWatch agent config and the metrics alarms name", () => {
    const config = renderCwAgentConfig({ mount: "/stdb", logGroupName: "/inner-universe/prod/host", caddyAccessLog: true });
    it("collects memory and the /stdb disk with stable dimensions, ships server, bootstrap and access logs", () => {
        expect(config.agent.omit_hostname).toBe(true);
        expect(config.metrics.append_dimensions).toEqual({ InstanceId: "${aws:InstanceId}" });
        expect(config.metrics.metrics_collected.disk).toEqual({ resources: ["/stdb"], measurement: ["used_percent"], drop_device: true });
        expect(config.logs.logs_collected.files.collect_list.map((f) => f.file_path)).toEqual([
            "/var/log/spacetimedb/server.log",
            "/var/log/cloud-init-output.log",
            "/var/log/caddy/access.log",
        ]);
        expect(new Set(config.logs.logs_collected.files.collect_list.map((f) => f.log_group_name))).toEqual(new Set(["/inner-universe/prod/host"]));
    });
    it("emits disk_used_percent with InstanceId, path and fstype (device dropped, no host)", () => {
        expect(emittedMetric(config, "disk", { instanceId: "i-1", path: "/stdb", fstype: "xfs" })).toEqual({
            namespace: "CWAgent",
            metricName: "disk_used_percent",
            dimensions: { InstanceId: "i-1", path: "/stdb", fstype: "xfs" },
        });
        expect(emittedMetric(config, "mem", { instanceId: "i-1" })).toEqual({ namespace: "CWAgent", metricName: "mem_used_percent", dimensions: { InstanceId: "i-1" } });
    });
    it("would name device and host too if the config kept them", () => {
        const loose = {
            ...config,
            agent: { ...config.agent, omit_hostname: false },
            metrics: { ...config.metrics, metrics_collected: { ...config.metrics.metrics_collected, disk: { ...config.metrics.metrics_collected.disk, drop_device: false } } },
        };
        expect(emittedMetric(loose, "disk", { instanceId: "i-1", path: "/stdb", fstype: "xfs", device: "nvme1n1", host: "ip-10-0-1-10" }).dimensions).toEqual({
            path: "/stdb",
            device: "nvme1n1",
            fstype: "xfs",
            host: "ip-10-0-1-10",
            InstanceId: "i-1",
        });
        expect(() => emittedMetric(loose, "disk", { instanceId: "i-1", path: "/stdb", fstype: "xfs" })).toThrow(/device/);
    });
});

describe("CIDR sets", () => {
    it.each([
        [["0.0.0.0/0", "203.0.113.0/28"], ["0.0.0.0/0"]],
        [["203.0.113.0/28", "203.0.113.0/24"], ["203.0.113.0/24"]],
        [
            ["198.51.100.0/24", "203.0.113.0/28", "198.51.100.0/24"],
            ["198.51.100.0/24", "203.0.113.0/28"],
        ],
    ])("%j → %j", (input, expected) => expect(coveringCidrs(input)).toEqual(expected));
});

describe("host OS and ACME directory", () => {
    const debian = hostSpec(
        prodConfig({
            tls: { acme_ca: "https://acme-staging-v02.api.letsencrypt.org/directory" },
            aws: {
                instance: { type: "r7i.large", os: "debian", ami_parameter: "/aws/service/debian/release/bookworm/latest/amd64", ami_owners: ["136693071363"], root_volume_gb: 20 },
                cloudwatch_agent_deb: {
                    url: "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com/debian/amd64/latest/amazon-cloudwatch-agent.deb",
                    sha256: "c".repeat(64),
                },
            },
        }),
        VOLUME_ID,
    );
    const bootstrapOf = (spec: typeof debian) => hostFiles(spec).find((f) => f.path === BOOTSTRAP_PATH)!.content;
    const caddyfileOf = (spec: typeof debian) => hostFiles(spec).find((f) => f.path === "/etc/caddy/Caddyfile")!.content;

    it("Amazon Linux (the default) installs with dnf and has no agent package to fetch", () => {
        const script = file("acme", BOOTSTRAP_PATH);
        expect(script).toContain("readonly HOST_OS='al2023'");
        expect(script).toContain("readonly CW_AGENT_DEB_URL=''");
        expect(script).toContain("al2023) dnf install -y amazon-cloudwatch-agent rsyslog ;;");
    });
    it("Debian fetches the pinned agent .deb, verified, and installs packages after the volume is attached, before formatting", () => {
        const script = bootstrapOf(debian);
        expect(script).toContain("readonly HOST_OS='debian'");
        expect(script).toContain(`readonly CW_AGENT_DEB_SHA256='${"c".repeat(64)}'`);
        expect(script).toContain('fetch_verified "$CW_AGENT_DEB_URL" "$CW_AGENT_DEB_SHA256" "$work/agent.deb"');
        const main = script.slice(script.indexOf("main() {"));
        expect(main.indexOf("dev=$(data_device)")).toBeLessThan(main.indexOf("install_packages"));
        expect(main.indexOf("install_packages")).toBeLessThan(main.indexOf('prepare_filesystem "$dev"'));
    });
    it("a debian bootstrap without the agent package is refused", () => {
        expect(() => renderBootstrap({ ...specs.alb!, os: "debian", front: { mode: "alb" } })).toThrow(/aws.cloudwatch_agent_deb/);
    });
    it("tls.acme_ca becomes Caddy's acme_ca; without it Caddy uses Let's Encrypt", () => {
        expect(caddyfileOf(debian)).toContain("\tacme_ca https://acme-staging-v02.api.letsencrypt.org/directory\n");
        expect(file("acme", "/etc/caddy/Caddyfile")).not.toContain("acme_ca");
    });
    it("Caddy, like the server, never starts unless the data volume is mounted", () => {
        expect(file("acme", "/etc/systemd/system/caddy.service").split("\n")).toContain("AssertPathIsMountPoint=/stdb");
    });
    it("the mount waits for udev's by-uuid link (what every later boot mounts through)", () => {
        expect(bootstrapOf(debian)).toContain("until [[ -e /dev/disk/by-uuid/$uuid ]]; do");
    });
    it("a Debian host in the largest configuration still fits the 16 KiB user data limit", () => {
        const big = {
            ...debian,
            front: {
                ...(debian.front as Extract<typeof debian.front, { mode: "acme" }>),
                exposeCall: true,
                exposeSql: true,
                deployCidrs: Array.from({ length: 10 }, (_, i) => `198.51.${100 + i}.0/24`),
            },
        };
        expect(Buffer.byteLength(renderUserData(big))).toBeLessThan(16 * 1024);
    });
});
