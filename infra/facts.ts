import * as os from "node:os";
import * as path from "node:path";

/**
 * Facts with one home. Everything else — the config schema, the components, the operator CLI, the
 * tests — imports them from here; the few copies other languages must keep (setup-tools.sh, the
 * Rust module, the shell steps) are held to these values by test/infra/facts.test.ts.
 * Plain Node and built-ins only: the dynamic providers (type-stripped .ts) may import it too.
 */

/** The project's name: Pulumi.yaml's `name` and the namespace of every config key. */
export const PROJECT = "inner-universe";

/** The SpacetimeDB server this project builds (toolchain/setup-tools.sh), runs and has verified. */
export const SERVER_VERSION = "1.2.0";

/** The version before it: the upgrade drill writes data on it, then upgrades (test/e2e/upgrade.test.ts). */
export const PREVIOUS_SERVER_VERSION = "1.1.1";

/**
 * The server versions this project has verified end to end (the e2e suite and the drills run
 * them). Any other `spacetimedb.version` is refused at config time unless the stack opts in with
 * `spacetimedb.accept_unverified_version: true`.
 */
export const VERIFIED_SERVER_VERSIONS: readonly string[] = [PREVIOUS_SERVER_VERSION, SERVER_VERSION];

/** The official image of a server version (entrypoint `spacetime`, port 3000, user `spacetime`). */
export const serverImage = (version: string = SERVER_VERSION) => `clockworklabs/spacetime:v${version}`;

/** The release asset a production host downloads for a server version. */
export const serverReleaseUrl = (version: string = SERVER_VERSION) =>
    `https://github.com/clockworklabs/SpacetimeDB/releases/download/v${version}/spacetime-x86_64-unknown-linux-gnu.tar.gz`;

/** The server root on a production host's data volume and inside a container (the official image's). */
export const HOST_ROOT_DIR = "/stdb";

/** A container stack's Docker names: the server container and its root volume (`docker ps`, leak checks, preflight). */
export const containerName = (stack: string) => `${PROJECT}-${stack}`;
export const containerVolumeName = (stack: string) => `${containerName(stack)}-stdb`;

/** The server's own port inside a container and on a host, behind its front. */
export const SERVER_PORT = 3000;

/**
 * How spacetimedb-standalone 1.x starts on a root dir: data and JWT signing keys both under it, so
 * the keys live and move with the data (a missing keypair is silently regenerated, and every token
 * — the owner's too — stops working). The local step, the container image, the host unit and the
 * restore drill all start the server with exactly these arguments, then add their listen address.
 */
export function standaloneStartArgs(root: string): string[] {
    return ["start", "--data-dir", `${root}/data`, "--jwt-pub-key-path", `${root}/config/id_ecdsa.pub`, "--jwt-priv-key-path", `${root}/config/id_ecdsa`];
}

/** Where the tool builds (keyed by version), the wasm artifacts and Node's compile cache live: outside every checkout. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
    return env.IU_CACHE || path.join(env.HOME || os.homedir(), ".cache", PROJECT);
}

/** Built wasm modules, named by the hash of their sources (`IU_ARTIFACT_CACHE` moves them). */
export function artifactCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.IU_ARTIFACT_CACHE || path.join(cacheRoot(env), "artifacts");
}

/** `spacetimedb.publish.delete_data`: whether a publish may clear the database (the config schema's values, the providers' type). */
export const DELETE_DATA_POLICIES = ["never", "on_conflict", "always"] as const;
export type DeleteDataPolicy = (typeof DELETE_DATA_POLICIES)[number];

/**
 * The module's tables a logical export carries, in load order (a relation names entities, a state
 * version its entity). module/src/import/rows.rs `TABLES` is the Rust copy the import reducers accept.
 */
export const EXPORT_TABLES = ["config", "entity", "relation", "state_version", "event_log"] as const;
