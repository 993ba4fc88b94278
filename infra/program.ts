import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AwsServer } from "./aws";
import { CONTAINER_ROOT, ContainerServer } from "./components/containerServer";
import { DeployerIdentity } from "./components/deployerIdentity";
import { LocalServer } from "./components/localServer";
import { ModuleBuild, type ModuleBuilder } from "./components/moduleBuild";
import { ModulePublish } from "./components/modulePublish";
import { Readiness } from "./components/readiness";
import { TlsProxy } from "./components/tlsProxy";
import type { LoadedConfig, StackConfig, StackConfigFor } from "./config";
import type { AtlasOutput } from "./contract/atlas";
import { buildAtlasOutput, wsUrlOf } from "./contract/build";
import { archiveDirOf, stackLayout } from "./lib/localLayout";
import { RemoteServerVersion } from "./spacetimedb/remoteVersion";
import type { UpgradeRecord } from "./spacetimedb/upgrade-impl";

/** Where the deploy runner reaches the server, and where clients do. */
interface Endpoint {
    adminUrl: pulumi.Output<string>;
    publicUrl: pulumi.Output<string>;
    wsUrl: pulumi.Output<string>;
    tlsEnabled: boolean;
    caCertPath?: string;
    /** CA the deploy steps trust for adminUrl (a remote server behind a private CA). */
    adminCaCert?: string;
    /** Where the server's JWT signing keys live: the deployer identity is bound to them. */
    identityScope: pulumi.Input<string>;
    /** Resolves once the public endpoint is serving. */
    publicReady?: pulumi.Output<string>;
    operations?: StackOutputs["aws"];
    /** Where the server keeps its root, per runtime (for `backup`); unknown for a remote server. */
    backup?: pulumi.Output<Omit<BackupTarget, "runtime" | "stack" | "database" | "adminUrl" | "backupDir">>;
}

/** What `npm run ops -- backup` reads to find a stack's server root and reach its server; no secrets. */
export interface BackupTarget {
    runtime: StackConfig["runtime"];
    stack: string;
    database: string;
    adminUrl: string;
    /** The server root (data + JWT keys): project-relative locally, the path inside the container or host otherwise. */
    rootDir?: string;
    /** Where local and container backups are written (project-relative), never inside rootDir. */
    backupDir: string;
    volumeName?: string;
    /** Local: the last server upgrade and the backup taken before it (infra/spacetimedb/upgrade-impl.ts). */
    lastUpgrade?: UpgradeRecord;
    image?: string;
    containerName?: string;
    dataVolumeId?: string;
    region?: string;
}

export interface StackOutputs {
    atlas: pulumi.Output<AtlasOutput>;
    /** Secret: the deployer's token, for admin tooling (`pulumi stack output --show-secrets`). Never in atlas. */
    deployerToken: pulumi.Output<string>;
    /** AWS stacks: the ids operators need (restore runbook, alarms, DNS). */
    aws?: pulumi.Output<{ instanceId: string; dataVolumeId: string; alarmTopicArn: string; dnsTarget: string }>;
    backup: pulumi.Output<BackupTarget>;
}

/**
 * Every environment is the same composition: build → server → identity → publish → readiness,
 * with the server (and its TLS front) chosen by runtime.
 */
export function buildStack({ cfg, deployerToken }: LoadedConfig, deps: { buildModule?: ModuleBuilder } = {}): StackOutputs {
    const name = "inner-universe";
    const build = new ModuleBuild(`${name}-module`, {
        projectRoot: cfg.projectRoot,
        moduleDir: cfg.module.dir,
        artifactDir: path.join(cfg.stateDir, "artifacts"),
        targetDir: cfg.module.target_dir,
        build: cfg.module.build,
        ...(deps.buildModule ? { builder: deps.buildModule } : {}),
        ...(cfg.module.wasm_path ? { prebuiltWasm: path.normalize(cfg.module.wasm_path) } : {}),
    });

    const endpoint = serverFor(name, cfg);

    const identity = new DeployerIdentity(`${name}-deployer`, {
        serverUrl: endpoint.adminUrl,
        scope: endpoint.identityScope,
        ...(deployerToken ? { token: deployerToken } : {}),
        readyTimeoutSeconds: cfg.spacetimedb.ready_timeout_s,
        timeoutMs: cfg.server.timeout_ms,
        ...(endpoint.adminCaCert ? { caCert: endpoint.adminCaCert } : {}),
    });

    const publish = new ModulePublish(`${name}-publish`, {
        serverUrl: endpoint.adminUrl,
        database: cfg.spacetimedb.database,
        wasmPath: build.wasmPath,
        wasmSha256: build.sha256,
        token: identity.token,
        deleteData: cfg.spacetimedb.publish.delete_data,
        settings: { server_config: cfg.server, feature_flags: cfg.feature_flags },
        timeoutMs: cfg.server.timeout_ms,
        ...(endpoint.adminCaCert ? { caCert: endpoint.adminCaCert } : {}),
    });

    const ready = new Readiness(`${name}-ready`, {
        serverUrl: endpoint.adminUrl,
        ...(endpoint.adminCaCert ? { caCert: endpoint.adminCaCert } : {}),
        ...(endpoint.tlsEnabled && cfg.runtime !== "aws" && cfg.runtime !== "remote"
            ? { publicUrl: endpoint.publicUrl, ...(endpoint.caCertPath ? { publicCaCert: endpoint.caCertPath } : {}) }
            : {}),
        database: cfg.spacetimedb.database,
        token: identity.token,
        revision: pulumi.all([publish.revision, endpoint.publicReady ?? ""]).apply(([r]) => r),
        timeoutSeconds: cfg.spacetimedb.ready_timeout_s,
        timeoutMs: cfg.server.timeout_ms,
    });

    const atlas = pulumi
        .all([endpoint.publicUrl, endpoint.wsUrl, publish.databaseIdentity, publish.publishedSha256, identity.identity, ready.report])
        .apply(([httpUrl, wsUrl, databaseIdentity, sha256, deployer]) =>
            buildAtlasOutput({
                environment: cfg.environment,
                stack: cfg.stack,
                runtime: cfg.runtime,
                httpUrl,
                wsUrl,
                database: cfg.spacetimedb.database,
                databaseIdentity,
                moduleSha256: sha256,
                serverVersion: cfg.spacetimedb.version,
                tlsEnabled: endpoint.tlsEnabled,
                ...(endpoint.caCertPath ? { caCertPath: endpoint.caCertPath } : {}),
                deployerIdentity: deployer,
            }),
        );
    const backup = pulumi.all([endpoint.adminUrl, endpoint.backup ?? pulumi.output({})]).apply(([adminUrl, where]) => ({
        runtime: cfg.runtime,
        stack: cfg.stack,
        database: cfg.spacetimedb.database,
        adminUrl,
        backupDir: backupDirOf(cfg),
        ...where,
    }));
    return { atlas, deployerToken: pulumi.secret(identity.token), ...(endpoint.operations ? { aws: endpoint.operations } : {}), backup };
}

/** Where local and container backups go (project-relative): the operator's backups and the upgrade gate's. */
const backupDirOf = (cfg: StackConfig) => path.join(cfg.stateDir, "backups", cfg.stack);

function serverFor(name: string, cfg: StackConfig): Endpoint {
    if (cfg.runtime === "remote") return remoteEndpoint(cfg);
    if (cfg.runtime === "aws") {
        const aws = new AwsServer(`${name}-aws`, { cfg });
        const operations = pulumi
            .all([aws.instanceId, aws.dataVolumeId, aws.alarmTopicArn, aws.dnsTarget])
            .apply(([instanceId, dataVolumeId, alarmTopicArn, dnsTarget]) => ({ instanceId, dataVolumeId, alarmTopicArn, dnsTarget }));
        const backup = pulumi.output({ rootDir: cfg.spacetimedb.root_dir, dataVolumeId: aws.dataVolumeId, region: cfg.aws.region });
        return { adminUrl: aws.adminUrl, publicUrl: aws.publicUrl, wsUrl: aws.wsUrl, tlsEnabled: true, identityScope: aws.dataVolumeId, operations, backup };
    }
    const server =
        cfg.runtime === "local"
            ? new LocalServer(`${name}-server`, {
                  binary: cfg.local.server_binary ?? "spacetimedb-standalone",
                  version: cfg.spacetimedb.version,
                  rootDir: cfg.spacetimedb.root_dir,
                  address: cfg.spacetimedb.address,
                  port: cfg.spacetimedb.port,
                  inMemory: cfg.spacetimedb.in_memory,
                  logLevel: cfg.spacetimedb.log_level,
                  readyTimeoutSeconds: cfg.spacetimedb.ready_timeout_s,
                  deleteDataOnDestroy: cfg.protect.delete_data_on_destroy,
                  protect: cfg.protect.data,
                  stack: cfg.stack,
                  database: cfg.spacetimedb.database,
                  backupDir: backupDirOf(cfg),
                  archiveDir: archiveDirOf(cfg.stateDir, cfg.stack),
                  archiverBinary: "clog-archive",
                  timeoutMs: cfg.server.timeout_ms,
              })
            : new ContainerServer(`${name}-server`, {
                  stack: cfg.stack,
                  image: cfg.container.image,
                  pull: cfg.container.pull,
                  hostPort: cfg.spacetimedb.port,
                  inMemory: cfg.spacetimedb.in_memory,
                  restart: cfg.container.restart,
                  ...(cfg.container.memory_mb ? { memoryMb: cfg.container.memory_mb } : {}),
                  healthcheck: cfg.container.healthcheck,
                  readyTimeoutSeconds: cfg.spacetimedb.ready_timeout_s,
                  protect: cfg.protect.data,
                  version: cfg.spacetimedb.version,
                  database: cfg.spacetimedb.database,
                  backupDir: backupDirOf(cfg),
                  timeoutMs: cfg.server.timeout_ms,
              });
    const serverUrl = server.url;
    const identityScope = server instanceof ContainerServer ? (server.volumeName ?? pulumi.output(`in-memory:${cfg.stack}`)) : pulumi.output(`local:${cfg.spacetimedb.root_dir}`);
    const backup =
        server instanceof ContainerServer
            ? pulumi.all([server.containerName, server.volumeName, server.lastUpgrade]).apply(([containerName, volumeName, lastUpgrade]) => ({
                  rootDir: CONTAINER_ROOT,
                  image: cfg.container.image,
                  containerName,
                  ...(volumeName ? { volumeName } : {}),
                  ...(lastUpgrade ? { lastUpgrade } : {}),
              }))
            : server.lastUpgrade.apply((lastUpgrade) => ({ rootDir: cfg.spacetimedb.root_dir, ...(lastUpgrade ? { lastUpgrade } : {}) }));
    if (!cfg.tls.enabled) {
        return { adminUrl: serverUrl, publicUrl: serverUrl, wsUrl: serverUrl.apply(wsUrlOf), tlsEnabled: false, identityScope, backup };
    }
    const proxy = new TlsProxy(`${name}-tls`, {
        caddyBinary: cfg.local.caddy_binary,
        dir: stackLayout(cfg.stackDir).proxyDir,
        httpsPort: cfg.tls.port,
        upstream: `127.0.0.1:${cfg.spacetimedb.port}`,
        upstreamReady: serverUrl,
        database: cfg.spacetimedb.database,
        exposeCall: cfg.tls.expose_call,
        exposeSql: cfg.tls.expose_sql,
        authRequired: cfg.server.auth_required,
        timeoutMs: cfg.server.timeout_ms,
        readyTimeoutSeconds: cfg.spacetimedb.ready_timeout_s,
        deleteDataOnDestroy: cfg.protect.delete_data_on_destroy,
    });
    return {
        adminUrl: serverUrl,
        publicUrl: proxy.ready.apply(() => proxy.httpsUrl),
        wsUrl: pulumi.output(proxy.wssUrl),
        tlsEnabled: true,
        caCertPath: proxy.caCertPath,
        publicReady: proxy.ready,
        identityScope,
        backup,
    };
}

/**
 * A server the stack does not run (Maincloud, a company cluster): no server resources; the deploy
 * steps and Atlas use its URL. The identity's scope is the URL: the server's keys are its own.
 */
function remoteEndpoint(cfg: StackConfigFor<"remote">): Endpoint {
    const remote = cfg.remote;
    const url = remote.url.replace(/\/+$/, "");
    new RemoteServerVersion("inner-universe-remote-version", {
        serverUrl: url,
        version: cfg.spacetimedb.version,
        timeoutMs: cfg.server.timeout_ms,
        ...(remote.ca_cert ? { caCert: path.normalize(remote.ca_cert) } : {}),
    });
    return {
        adminUrl: pulumi.output(url),
        publicUrl: pulumi.output(url),
        wsUrl: pulumi.output(wsUrlOf(url)),
        tlsEnabled: url.startsWith("https://"),
        ...(remote.ca_cert ? { caCertPath: path.normalize(remote.ca_cert), adminCaCert: path.normalize(remote.ca_cert) } : {}),
        identityScope: pulumi.output(`remote:${url}`),
    };
}
