import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SERVER_VERSION } from "../../../infra/facts";
import { caddyCaRoot } from "../../../infra/lib/localLayout";
import { type BuiltAssets, buildAssets } from "./assets";
import { type ExecResult, exec, waitFor } from "./exec";
import { ACME_HOST, drillOverrides, MIRROR_HOST } from "./overrides";
import type { RenderedHost } from "./userData";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/** The drill's shell steps, stand-ins and in-container entries live beside this file. */
const SCRIPTS = __dirname;
const STANDINS = path.join(SCRIPTS, "standins");
/** The smallest volume mkfs.xfs accepts is 300 MiB. */
export const VOLUME_MIB = 512;

export interface Volume {
    name: string;
    file: string;
    loop: string;
}

export interface BootstrapResult {
    /** How the bootstrap (cloud-init's runcmd) ended, from its own log lines: its "done" or its "FATAL". */
    outcome: "done" | "refused" | "unknown";
    /** cloud-init's own verdict (done or error: any module's failure counts, not only the bootstrap's). */
    cloudInit: string;
    /** /var/log/cloud-init-output.log: the bootstrap's own log lines are in it. */
    log: string;
}

const log = (msg: string) => process.stderr.write(`[drill] ${msg}\n`);

/**
 * One drill: the host image, a private Docker network, the services container (HTTPS mirror and
 * ACME CA, both Caddy), the user data the program renders for prod, and every volume and host it
 * creates, so that teardown removes exactly those.
 */
export class Drill {
    readonly id = randomBytes(3).toString("hex");
    readonly network = `iu-drill-${this.id}`;
    readonly services = `iu-drill-${this.id}-services`;
    readonly deployer = `iu-drill-${this.id}-deployer`;
    image = "";
    /** PEM of the drill CA (Caddy's local CA in the services container): signs the mirror and every ACME certificate. */
    caRoot = "";
    assets!: BuiltAssets;
    rendered!: RenderedHost;
    domain = "";
    deployAddress = "";
    private readonly hosts = new Set<string>();
    private readonly volumes: Volume[] = [];
    private networkCreated = false;

    constructor(readonly workDir: string) {}

    static async setup(workDir = fs.mkdtempSync(path.join(os.tmpdir(), "iu-drill-"))): Promise<Drill> {
        const d = new Drill(workDir);
        try {
            await d.init();
        } catch (e) {
            await d.teardown();
            throw e;
        }
        return d;
    }

    private async init(): Promise<void> {
        this.image = (await exec("bash", [path.join(SCRIPTS, "rootfs.sh")], { timeoutMs: 900_000 })).stdout.trim();
        const serverBinary = (await exec("bash", ["-c", "command -v spacetimedb-standalone"])).stdout.trim();
        const caddyBinary = (await exec("bash", ["-c", "command -v caddy"])).stdout.trim();
        this.assets = await buildAssets({ serverBinary, serverVersion: SERVER_VERSION, caddyBinary });

        await exec("docker", ["network", "create", "--label", "inner-universe-drill", this.network]);
        this.networkCreated = true;
        const dir = path.join(this.workDir, "services");
        fs.mkdirSync(path.join(dir, "data"), { recursive: true });
        fs.writeFileSync(path.join(dir, "Caddyfile"), servicesCaddyfile());
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "services", this.services, this.image, this.network, dir, this.assets.mirrorDir, caddyBinary, MIRROR_HOST, ACME_HOST]);
        const root = caddyCaRoot(path.join(dir, "data"));
        this.caRoot = await waitFor("the drill CA's root certificate", 60_000, async () => (fs.existsSync(root) ? fs.readFileSync(root, "utf8") : undefined), 500);

        // The deploy runner's address is the deploy address; the machine itself (the tests) is not one.
        fs.mkdirSync(path.join(this.workDir, "deploy"));
        fs.writeFileSync(path.join(this.workDir, "deploy", "ca.pem"), this.caRoot);
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "deployer", this.deployer, this.image, this.network, ROOT, process.execPath, path.join(this.workDir, "deploy")]);
        this.deployAddress = await containerIp(this.deployer, this.network);
        const overrides = path.join(this.workDir, "overrides.json");
        fs.writeFileSync(overrides, JSON.stringify(drillOverrides({ ...this.assets, deployCidrs: [`${this.deployAddress}/32`] })));
        const out = path.join(this.workDir, "rendered.json");
        await exec(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(SCRIPTS, "user-data.ts"), overrides, out], { timeoutMs: 900_000 });
        this.rendered = JSON.parse(fs.readFileSync(out, "utf8")) as RenderedHost;
        this.domain = JSON.parse(this.rendered.config["inner-universe:tls"]!).domain as string;
        log(`setup: image ${this.image}, network ${this.network}, prod user data ${this.rendered.userData.length} bytes for ${this.rendered.volumeId}`);
    }

    /**
     * Runs the program's deploy steps (ops/drill/host/deploy-steps.ts: the SpacetimeDB providers with
     * the inputs the program registered) from the deploy runner, through the host's front.
     */
    async deploySteps(): Promise<DeployResult> {
        fs.writeFileSync(path.join(this.workDir, "deploy", "steps.json"), JSON.stringify(this.rendered.steps));
        await exec("docker", ["exec", this.deployer, "node", "ops/drill/host/deploy-steps.ts", "deploy", "/drill/steps.json", "/drill/ca.pem", "/drill/deployed.json"], {
            timeoutMs: 600_000,
        });
        return JSON.parse(fs.readFileSync(path.join(this.workDir, "deploy", "deployed.json"), "utf8")) as DeployResult;
    }

    /** The rows the deploy wrote, read from the deploy runner with the deployer's token (JSON text). */
    async deployedRows(token: string): Promise<string> {
        await exec("docker", ["exec", this.deployer, "node", "ops/drill/host/deploy-steps.ts", "rows", "/drill/steps.json", "/drill/ca.pem", token, "/drill/rows.json"], {
            timeoutMs: 120_000,
        });
        return fs.readFileSync(path.join(this.workDir, "deploy", "rows.json"), "utf8");
    }

    /** A volume file attached to a loop device; `init` prepares its bytes before it is attached. */
    async volume(name: string, init?: (file: string) => Promise<void>): Promise<Volume> {
        const file = path.join(this.workDir, `${name}.img`);
        await exec("bash", [path.join(SCRIPTS, "loop.sh"), "create", file, String(VOLUME_MIB)]);
        if (init) await init(file);
        const loop = (await exec("bash", [path.join(SCRIPTS, "loop.sh"), "attach", file])).stdout.trim();
        const v = { name, file, loop };
        this.volumes.push(v);
        return v;
    }

    /** Grows a volume under whatever host has it attached, as an in-place EBS modification does. */
    async grow(v: Volume, mib: number): Promise<void> {
        await exec("bash", [path.join(SCRIPTS, "loop.sh"), "grow", v.loop, v.file, String(mib)]);
    }

    /** Detaches a volume's loop device (its file stays, for checksums and copies). */
    async detach(v: Volume): Promise<void> {
        await exec("bash", [path.join(SCRIPTS, "loop.sh"), "detach", v.loop, v.file]);
        this.volumes.splice(this.volumes.indexOf(v), 1);
    }

    /**
     * Boots a host from the rendered prod user data with `volume` as its data volume. `attachLater`:
     * the volume's by-id link appears only when `attach` is called, as an EBS attachment that
     * completes after the instance started (what a host replacement does).
     */
    async boot(name: string, volume: Volume, instanceId: string, opts: { attachLater?: boolean } = {}): Promise<DrillHost> {
        const container = `iu-drill-${this.id}-${name}`;
        const files = path.join(this.workDir, `${name}-files`);
        seedFiles(files, { userData: this.rendered.userData, instanceId, volumeId: opts.attachLater ? "" : this.rendered.volumeId, caRoot: this.caRoot });
        this.hosts.add(container);
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "start", container, this.image, this.network, volume.loop, this.domain, files]);
        return new DrillHost(container, this);
    }

    async remove(host: DrillHost): Promise<void> {
        // A clean shutdown first (SIGRTMIN+3: units stop, /stdb unmounts), as a terminated instance.
        await exec("docker", ["stop", host.name], { check: false, timeoutMs: 120_000 });
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "remove", host.name]);
        this.hosts.delete(host.name);
    }

    /** Removes every host, the services container and the network, and detaches every loop device it attached. */
    async teardown(): Promise<void> {
        for (const h of [...this.hosts]) await exec("bash", [path.join(SCRIPTS, "host.sh"), "remove", h], { check: false });
        this.hosts.clear();
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "remove", this.services], { check: false });
        await exec("bash", [path.join(SCRIPTS, "host.sh"), "remove", this.deployer], { check: false });
        for (const v of [...this.volumes]) await exec("bash", [path.join(SCRIPTS, "loop.sh"), "detach", v.loop, v.file], { check: false });
        this.volumes.length = 0;
        if (this.networkCreated) await exec("docker", ["network", "rm", this.network], { check: false });
        this.networkCreated = false;
        fs.rmSync(this.workDir, { recursive: true, force: true });
    }
}

export class DrillHost {
    constructor(
        readonly name: string,
        private readonly drill: Drill,
    ) {}

    exec(cmd: string[], opts: { check?: boolean; timeoutMs?: number } = {}): Promise<ExecResult> {
        return exec("docker", ["exec", this.name, ...cmd], { check: opts.check ?? false, ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}) });
    }

    async sh(script: string): Promise<string> {
        return (await exec("docker", ["exec", this.name, "bash", "-c", script])).stdout;
    }

    /** Waits for cloud-init to finish (the bootstrap is its runcmd) and returns its verdict and log. */
    async bootstrap(timeoutMs = 600_000): Promise<BootstrapResult> {
        await waitFor(`${this.name} to boot`, 120_000, async () => ((await this.exec(["test", "-S", "/run/systemd/private"])).code === 0 ? true : undefined));
        const r = await this.exec(["cloud-init", "status", "--wait"], { timeoutMs });
        const cloudInit = /status:\s*(\S+)/.exec(r.stdout)?.[1] ?? `unknown (${r.stdout.trim()} ${r.stderr.trim()})`;
        const logText = (await this.exec(["cat", "/var/log/cloud-init-output.log"])).stdout;
        const outcome = logText.includes("[iu-bootstrap] FATAL:") ? "refused" : logText.includes("[iu-bootstrap] done") ? "done" : "unknown";
        return { outcome, cloudInit, log: logText };
    }

    ip(): Promise<string> {
        return containerIp(this.name, this.drill.network);
    }

    /** Completes the data volume's attachment (boot with attachLater): the udev stand-in publishes its by-id link. */
    async attach(volumeId: string): Promise<void> {
        await exec("docker", ["exec", this.name, "bash", "-c", `printf '%s\\n' ${volumeId} >/etc/iu-drill/volume-id`]);
    }

    /** A reboot: systemd shuts down cleanly (SIGRTMIN+3) and boots again on the same root disk. */
    async reboot(): Promise<void> {
        await exec("docker", ["restart", this.name], { timeoutMs: 180_000 });
    }

    /** The unit's state and journal, for failure messages. */
    async diagnostics(): Promise<string> {
        const r = await this.exec([
            "bash",
            "-c",
            "tail -n 40 /var/log/cloud-init-output.log; systemctl --no-pager status spacetimedb.service caddy.service stdb.mount 2>&1 | tail -n 40; journalctl --no-pager -n 40 -u spacetimedb.service -u caddy.service 2>&1",
        ]);
        return r.stdout + r.stderr;
    }
}

export interface DeployResult {
    identity: string;
    /** The deployer's token (the drill's own throwaway identity). */
    token: string;
    database: { databaseIdentity: string; revision: string };
    readiness: Record<string, unknown>;
}

async function containerIp(name: string, network: string): Promise<string> {
    const r = await exec("docker", ["inspect", "-f", `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name]);
    return r.stdout.trim();
}

export async function sha256OfFile(file: string): Promise<string> {
    const h = createHash("sha256");
    for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
    return h.digest("hex");
}

/** The files copied onto a new host's root before it boots: NoCloud seed, drill stand-ins, the drill CA. */
function seedFiles(dir: string, o: { userData: string; instanceId: string; volumeId: string; caRoot: string }): void {
    const put = (rel: string, content: string | Buffer, mode = 0o644) => {
        const p = path.join(dir, rel);
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, content, { mode });
    };
    fs.rmSync(dir, { recursive: true, force: true });
    // cloud-init NoCloud: the user data exactly as the program registered it on the instance.
    put("var/lib/cloud/seed/nocloud/user-data", o.userData, 0o600);
    put("var/lib/cloud/seed/nocloud/meta-data", `instance-id: ${o.instanceId}\nlocal-hostname: ip-10-0-1-10\n`, 0o600);
    put("etc/cloud/cloud.cfg.d/99-iu-drill.cfg", fs.readFileSync(path.join(STANDINS, "99-iu-drill.cfg")));
    put("etc/iu-drill/volume-id", o.volumeId ? `${o.volumeId}\n` : "");
    put("usr/local/share/ca-certificates/iu-drill-ca.crt", o.caRoot);
    put("usr/local/sbin/iu-drill-udev-standin", fs.readFileSync(path.join(STANDINS, "iu-drill-udev-standin")), 0o755);
    put("etc/systemd/system-generators/iu-drill-fstab-standin", fs.readFileSync(path.join(STANDINS, "iu-drill-fstab-standin")), 0o755);
    for (const unit of ["iu-drill-udev-standin.service", "iu-drill-trust.service"]) {
        put(`etc/systemd/system/${unit}`, fs.readFileSync(path.join(STANDINS, unit)));
        fs.mkdirSync(path.join(dir, "etc/systemd/system/sysinit.target.wants"), { recursive: true });
        fs.symlinkSync(`../${unit}`, path.join(dir, "etc/systemd/system/sysinit.target.wants", unit));
    }
}

/** The services container: the HTTPS mirror and an ACME CA (Caddy's acme_server), both with certificates from Caddy's local CA. */
function servicesCaddyfile(): string {
    return [
        "{",
        "\tadmin off",
        "\tskip_install_trust",
        "\tlocal_certs",
        "}",
        "",
        `${MIRROR_HOST} {`,
        "\troot * /srv/mirror",
        "\tfile_server",
        "}",
        "",
        `${ACME_HOST} {`,
        "\tacme_server",
        "}",
        "",
    ].join("\n");
}
