import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { cacheRoot } from "../../../infra/facts";
import { exec } from "./exec";
import { ACME_DIRECTORY, type DrillAssets, MIRROR_HOST } from "./overrides";

const STANDINS = path.join(__dirname, "standins");

export interface AssetSources {
    /** The spacetimedb-standalone we build (toolchain/setup-tools.sh). */
    serverBinary: string;
    serverVersion: string;
    caddyBinary: string;
}

export interface BuiltAssets extends Omit<DrillAssets, "deployCidrs"> {
    /** Directory served as https://mirror.drill.test/ (paths shaped like the real download sites). */
    mirrorDir: string;
}

/** Bump when buildAssets changes what it produces (the cache key holds this, the inputs and the stand-in). */
const ASSETS_VERSION = "1";

const sha256File = (p: string) => createHash("sha256").update(fs.readFileSync(p)).digest("hex");

/**
 * What the host downloads, built once per input (cached under IU_CACHE): a release-shaped
 * SpacetimeDB tarball and a Caddy tarball around the binaries we have, and the CloudWatch agent
 * stand-in as a .deb (the real agent cannot be downloaded offline). Hashes are computed from the
 * files, so the stack config pins exactly what is served.
 */
export async function buildAssets(src: AssetSources): Promise<BuiltAssets> {
    const caddyVersion = (await exec(src.caddyBinary, ["version"])).stdout.trim().split(/\s+/)[0]!.replace(/^v/, "");
    const stat = (p: string) => {
        const s = fs.statSync(p);
        return `${p}:${s.size}:${s.mtimeMs}`;
    };
    const key = createHash("sha256")
        .update(
            [
                stat(src.serverBinary),
                src.serverVersion,
                stat(src.caddyBinary),
                caddyVersion,
                fs.readFileSync(path.join(STANDINS, "amazon-cloudwatch-agent-ctl"), "utf8"),
                ASSETS_VERSION,
            ].join("\n"),
        )
        .digest("hex")
        .slice(0, 12);
    const cache = cacheRoot();
    const dir = path.join(cache, `drill-assets-${key}`);
    const rel = {
        server: `clockworklabs/SpacetimeDB/releases/download/v${src.serverVersion}/spacetime-x86_64-unknown-linux-gnu.tar.gz`,
        caddy: `caddyserver/caddy/releases/download/v${caddyVersion}/caddy_${caddyVersion}_linux_amd64.tar.gz`,
        agent: "amazoncloudwatch-agent/debian/amd64/iu-drill-cloudwatch-agent-standin_1.0_amd64.deb",
    };
    if (!fs.existsSync(path.join(dir, "complete"))) {
        const work = `${dir}.partial`;
        fs.rmSync(work, { recursive: true, force: true });
        for (const r of Object.values(rel)) fs.mkdirSync(path.join(work, path.dirname(r)), { recursive: true });
        const stage = fs.mkdtempSync(path.join(os.tmpdir(), "iu-drill-assets-"));
        try {
            // Release layout: the binaries at the top of the archive.
            fs.mkdirSync(path.join(stage, "release"));
            fs.copyFileSync(src.serverBinary, path.join(stage, "release", "spacetimedb-standalone"));
            fs.chmodSync(path.join(stage, "release", "spacetimedb-standalone"), 0o755);
            await exec("tar", ["-C", path.join(stage, "release"), "--owner=0", "--group=0", "-czf", path.join(work, rel.server), "spacetimedb-standalone"]);
            fs.mkdirSync(path.join(stage, "caddy"));
            fs.copyFileSync(src.caddyBinary, path.join(stage, "caddy", "caddy"));
            fs.chmodSync(path.join(stage, "caddy", "caddy"), 0o755);
            await exec("tar", ["-C", path.join(stage, "caddy"), "--owner=0", "--group=0", "-czf", path.join(work, rel.caddy), "caddy"]);
            const deb = path.join(stage, "deb");
            fs.mkdirSync(path.join(deb, "DEBIAN"), { recursive: true });
            fs.mkdirSync(path.join(deb, "opt", "aws", "amazon-cloudwatch-agent", "bin"), { recursive: true });
            fs.writeFileSync(
                path.join(deb, "DEBIAN", "control"),
                [
                    "Package: iu-drill-cloudwatch-agent-standin",
                    "Version: 1.0",
                    "Architecture: amd64",
                    "Maintainer: inner-universe drill <drill@invalid>",
                    "Description: DRILL STAND-IN for the Amazon CloudWatch agent",
                    " Installs amazon-cloudwatch-agent-ctl that only records its calls (the real agent cannot be downloaded offline).",
                    "",
                ].join("\n"),
            );
            fs.copyFileSync(path.join(STANDINS, "amazon-cloudwatch-agent-ctl"), path.join(deb, "opt", "aws", "amazon-cloudwatch-agent", "bin", "amazon-cloudwatch-agent-ctl"));
            fs.chmodSync(path.join(deb, "opt", "aws", "amazon-cloudwatch-agent", "bin", "amazon-cloudwatch-agent-ctl"), 0o755);
            await exec("dpkg-deb", ["--root-owner-group", "--build", deb, path.join(work, rel.agent)]);
        } finally {
            fs.rmSync(stage, { recursive: true, force: true });
        }
        fs.writeFileSync(path.join(work, "complete"), "");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(work, dir);
    }
    const url = (r: string) => `https://${MIRROR_HOST}/${r}`;
    return {
        mirrorDir: dir,
        server: { url: url(rel.server), sha256: sha256File(path.join(dir, rel.server)) },
        caddy: { url: url(rel.caddy), sha256: sha256File(path.join(dir, rel.caddy)) },
        cloudwatchAgentDeb: { url: url(rel.agent), sha256: sha256File(path.join(dir, rel.agent)) },
        acmeDirectory: ACME_DIRECTORY,
    };
}
