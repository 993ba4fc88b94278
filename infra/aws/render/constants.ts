/**
 * Facts shared by the renderers, the components and the tests. Each lives here once so that
 * what the bootstrap creates, what systemd runs and what CloudWatch watches cannot drift apart.
 */

/** Filesystem of the data volume: the bootstrap formats with it, the disk alarm's `fstype` dimension names it. */
export const DATA_FSTYPE = "xfs";

/**
 * Fixed ids for the service users: files on the data volume outlive the host, and a replacement
 * host must own them without a recursive chown of the whole database.
 */
export const STDB_UID = 2000;
export const CADDY_UID = 2001;

export const BOOTSTRAP_PATH = "/usr/local/sbin/iu-bootstrap";
export const SERVER_UNIT = "spacetimedb.service";
export const CADDY_UNIT = "caddy.service";
export const ALB_PROXY_SOCKET = "stdb-alb-proxy.socket";
export const ALB_PROXY_SERVICE = "stdb-alb-proxy.service";
export const CADDYFILE_PATH = "/etc/caddy/Caddyfile";
export const CADDY_BIN = "/usr/local/bin/caddy";
export const SOCKET_PROXYD = "/usr/lib/systemd/systemd-socket-proxyd";
export const CW_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";

/** rsyslog copies the server's journal stream here, the CloudWatch agent ships it. */
export const SERVER_LOG = "/var/log/spacetimedb/server.log";
export const CADDY_ACCESS_LOG = "/var/log/caddy/access.log";
export const BOOTSTRAP_LOG = "/var/log/cloud-init-output.log";
/** journald's SyslogIdentifier of the server; rsyslog filters on it. */
export const SERVER_LOG_TAG = "spacetimedb";

/** Port the ALB forwards to (ALB mode): a socket proxy on the host relays it to the loopback server. */
export const ALB_TARGET_PORT = 3080;

/** Tag DLM selects data volumes by. Its value is the stack, so two stacks never share snapshots. */
export const SNAPSHOT_TAG_KEY = "inner-universe:snapshot";

/** How long the bootstrap waits for the data volume to appear (attachment follows instance creation). */
export const DEVICE_TIMEOUT_S = 900;

/** The NVMe by-id link udev creates for an EBS volume: `vol-0abc…` becomes `…_vol0abc…`. */
export function ebsByIdPath(volumeId: string): string {
    return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}
