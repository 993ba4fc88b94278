# shellcheck shell=bash disable=SC2154 # a fragment: bootstrap.ts prepends the settings it reads (the rendered whole is shellchecked in test/infra/aws/validators.test.ts)
# Body of the host bootstrap; infra/aws/render/bootstrap.ts prepends the settings above this line.
# Runs once per instance (cloud-init runcmd) on Amazon Linux 2023 or Debian and is safe to run again by hand.
# Data rule: the data volume is formatted only when it carries no filesystem and no data at all.

# stderr: stdout of functions is captured by callers; cloud-init logs both.
log() { printf '[iu-bootstrap] %s\n' "$*" >&2; }
die() {
    log "FATAL: $*"
    exit 1
}

data_device() {
    local link waited=0
    link="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${VOLUME_ID//-/}"
    # The attachment is created after the instance starts: wait for it, never fall back to another disk.
    until [[ -e $link ]]; do
        ((waited < DEVICE_TIMEOUT_S)) || die "data volume $VOLUME_ID not attached after ${DEVICE_TIMEOUT_S}s"
        sleep 5
        waited=$((waited + 5))
    done
    readlink -f "$link"
}

prepare_filesystem() {
    local dev=$1 fstype="" rc=0
    fstype=$(blkid -p -o value -s TYPE "$dev") || rc=$?
    case $rc in
    0) ;;
    2) fstype="" ;;
    *) die "blkid failed on $dev (exit $rc); not touching it" ;;
    esac
    if [[ -z $fstype ]]; then
        # No signature is not proof of no data: require the first MiB to be zeros too.
        if [[ -n $(head -c 1048576 "$dev" | tr -d '\0' | head -c 1) ]]; then
            die "$dev has no filesystem signature but is not blank; refusing to format it"
        fi
        log "formatting blank volume $VOLUME_ID ($dev) as $FS_TYPE"
        # Without -f, mkfs itself refuses a device that holds any known signature.
        mkfs -t "$FS_TYPE" -L stdb "$dev"
    elif [[ $fstype != "$FS_TYPE" ]]; then
        die "$dev holds $fstype, expected $FS_TYPE; refusing to reformat data"
    else
        log "volume $VOLUME_ID already holds $FS_TYPE: keeping its data"
    fi
}

mount_data() {
    local dev=$1 uuid waited=0
    uuid=$(blkid -p -s UUID -o value "$dev")
    [[ -n $uuid ]] || die "no filesystem UUID on $dev"
    # Every later boot mounts through udev's by-uuid link: wait until udev has published it.
    udevadm settle --timeout=30 2>/dev/null || true
    until [[ -e /dev/disk/by-uuid/$uuid ]]; do
        ((waited < 60)) || die "/dev/disk/by-uuid/$uuid did not appear"
        sleep 1
        waited=$((waited + 1))
    done
    # nofail: a missing volume must not stop the host from booting (SSM stays reachable for repair);
    # the server unit requires the mount, so it will not start on the root disk instead.
    awk -v mp="$MOUNT_POINT" '$2 != mp' /etc/fstab >/etc/fstab.iu
    printf 'UUID=%s %s %s defaults,noatime,nofail,x-systemd.device-timeout=5min 0 0\n' "$uuid" "$MOUNT_POINT" "$FS_TYPE" >>/etc/fstab.iu
    mv /etc/fstab.iu /etc/fstab
    systemctl daemon-reload
    mkdir -p "$MOUNT_POINT"
    mountpoint -q "$MOUNT_POINT" || mount "$MOUNT_POINT"
    mountpoint -q "$MOUNT_POINT" || die "$MOUNT_POINT is not mounted"
}

# Raising aws.data_volume.size_gb modifies the EBS volume in place; the filesystem grows to the
# device here on every bootstrap and, on a running host, through SSM (GROW_COMMAND,
# infra/aws/render/constants.ts). Idempotent; XFS never shrinks.
grow_filesystem() {
    local before after
    before=$(df --output=size -B1 "$MOUNT_POINT" | tail -n1)
    xfs_growfs "$MOUNT_POINT" >/dev/null || die "xfs_growfs $MOUNT_POINT failed"
    after=$(df --output=size -B1 "$MOUNT_POINT" | tail -n1)
    if ((after > before)); then
        log "grew $MOUNT_POINT from $before to $after bytes"
    else
        log "$MOUNT_POINT already fills its volume ($after bytes)"
    fi
}

ensure_user() {
    local name=$1 id=$2
    getent group "$name" >/dev/null || groupadd --system --gid "$id" "$name"
    getent passwd "$name" >/dev/null || useradd --system --uid "$id" --gid "$id" --home-dir "$MOUNT_POINT" --no-create-home --shell /sbin/nologin "$name"
    [[ $(id -u "$name") == "$id" ]] || die "user $name exists with uid $(id -u "$name"), expected $id (files on the volume belong to $id)"
}

# Installs what the host needs from the OS's own repositories, and the CloudWatch agent.
install_packages() {
    case $HOST_OS in
    al2023) dnf install -y amazon-cloudwatch-agent rsyslog ;;
    debian)
        local missing=() p work
        for p in xfsprogs rsyslog curl; do
            dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
        done
        if ((${#missing[@]} > 0)); then
            apt-get update -q
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
        fi
        # Debian has no package for the agent: AWS publishes a .deb, pinned here by sha256.
        work=$(mktemp -d)
        fetch_verified "$CW_AGENT_DEB_URL" "$CW_AGENT_DEB_SHA256" "$work/agent.deb"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$work/agent.deb"
        rm -rf "$work"
        ;;
    *) die "unknown host OS $HOST_OS" ;;
    esac
    [[ -x $CW_AGENT_CTL ]] || die "CloudWatch agent not installed ($CW_AGENT_CTL missing)"
}

fetch_verified() {
    local url=$1 sha256=$2 out=$3
    curl --proto '=https' --tlsv1.2 -fsSL --retry 5 --retry-delay 3 -o "$out" "$url"
    printf '%s  %s\n' "$sha256" "$out" | sha256sum --check --quiet - || die "sha256 mismatch for $url"
}

install_server() {
    local dir="$MOUNT_POINT/bin/$STDB_VERSION" work
    if [[ -x $dir/spacetimedb-standalone && $(cat "$dir/.sha256" 2>/dev/null) == "$STDB_SHA256" ]]; then
        log "SpacetimeDB $STDB_VERSION already installed"
    else
        work=$(mktemp -d)
        fetch_verified "$STDB_URL" "$STDB_SHA256" "$work/release.tar.gz"
        mkdir "$work/unpacked"
        tar --no-same-owner -xzf "$work/release.tar.gz" -C "$work/unpacked"
        [[ -x $work/unpacked/spacetimedb-standalone ]] || die "release asset has no spacetimedb-standalone"
        [[ $STDB_COMMAND != spacetime || -x $work/unpacked/spacetimedb-cli ]] || die "release asset has no spacetimedb-cli"
        printf '%s\n' "$STDB_SHA256" >"$work/unpacked/.sha256"
        rm -rf "$dir.partial" "$dir"
        cp -a "$work/unpacked" "$dir.partial"
        mv "$dir.partial" "$dir"
        rm -rf "$work"
    fi
    ln -sfn "$STDB_VERSION" "$MOUNT_POINT/bin/current"
    ln -sfn "$MOUNT_POINT/bin/current/spacetimedb-cli" /usr/local/bin/spacetime
}

install_caddy() {
    local work
    work=$(mktemp -d)
    fetch_verified "$CADDY_URL" "$CADDY_SHA256" "$work/caddy.tar.gz"
    tar --no-same-owner -xzf "$work/caddy.tar.gz" -C "$work" caddy
    install -m 0755 "$work/caddy" "$CADDY_BIN"
    rm -rf "$work"
    ensure_user caddy "$CADDY_UID"
    install -d -o caddy -g caddy -m 0700 "$MOUNT_POINT/caddy"
    install -d -o caddy -g caddy -m 0750 /var/log/caddy
}

# The version a root was last run by: a server start writes it, and an older server refuses the root.
root_version() {
    [[ -f $MOUNT_POINT/data/metadata.toml ]] || return 0
    sed -n 's/^version = "\([0-9][0-9.]*\)"$/\1/p' "$MOUNT_POINT/data/metadata.toml" | head -n1
}

# version_newer A B: A is a later version than B.
version_newer() {
    [[ $1 != "$2" && $(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -n1) == "$1" ]]
}

server_answers() {
    curl -fsS --retry "$READY_RETRIES" --retry-delay 2 --retry-connrefused -o /dev/null "http://127.0.0.1:$STDB_PORT/v1/ping"
}

# Runs the server unit on the binary of another version (the way back), through a drop-in.
run_version() {
    local version=$1 exec_start
    exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT_DIR/$SERVER_UNIT" | head -n1)
    mkdir -p "$UNIT_DIR/$SERVER_UNIT.d"
    printf '[Service]\nExecStart=\nExecStart=%s\n' "${exec_start//\/bin\/$STDB_VERSION\//\/bin\/$version\/}" >"$UNIT_DIR/$SERVER_UNIT.d/50-version.conf"
    systemctl daemon-reload
    systemctl restart "$SERVER_UNIT"
}

# The host's half of the upgrade gate; Pulumi's half snapshotted the volume (waited to `completed`)
# before it replaced the host (infra/aws/upgradeGate.ts). A root last run by a newer server is
# refused before anything starts. An older root is copied aside on the volume, started on the new
# version and checked; a failed check stops it, keeps the upgraded root, puts the copy back and
# starts the old version. With no room for the copy, the old version keeps serving. Never deletes.
start_server() {
    local from copy failed need avail
    from=$(root_version)
    if [[ -n $from ]] && version_newer "$from" "$STDB_VERSION"; then
        die "refusing a downgrade: $MOUNT_POINT was last run by SpacetimeDB $from and this host runs $STDB_VERSION; nothing was started. Restore the snapshot taken before the upgrade (aws.data_volume.snapshot_id, docs/restore.md)"
    fi
    if [[ -z $from || $from == "$STDB_VERSION" ]]; then
        systemctl enable --now "$SERVER_UNIT"
        server_answers || die "server did not answer /v1/ping"
        return 0
    fi
    [[ -x $MOUNT_POINT/bin/$from/spacetimedb-standalone ]] || die "upgrade $from → $STDB_VERSION: $MOUNT_POINT/bin/$from is gone, so there would be no way back; nothing was started"
    copy=$MOUNT_POINT/pre-upgrade/$from
    need=$(du -sB1 -c "$MOUNT_POINT/data" "$MOUNT_POINT/config" | tail -n1 | cut -f1)
    avail=$(df --output=avail -B1 "$MOUNT_POINT" | tail -n1)
    systemctl enable "$SERVER_UNIT"
    if ((avail < need + 1048576)); then
        run_version "$from"
        die "upgrade $from → $STDB_VERSION not started: $MOUNT_POINT has $avail bytes free and the copy needs $need; SpacetimeDB $from serves as before. Grow aws.data_volume.size_gb, then run pulumi up again"
    fi
    log "upgrade $from → $STDB_VERSION: copying the root to $copy before the new server touches it"
    rm -rf "$copy.partial"
    mkdir -p "$copy.partial"
    cp -a "$MOUNT_POINT/data" "$MOUNT_POINT/config" "$copy.partial/"
    rm -rf "$copy"
    mv "$copy.partial" "$copy"
    systemctl start "$SERVER_UNIT"
    if server_answers; then
        log "upgraded $from → $STDB_VERSION"
        return 0
    fi
    log "upgrade $from → $STDB_VERSION failed readiness: rolling back to $from"
    systemctl stop "$SERVER_UNIT"
    failed=$MOUNT_POINT/failed-upgrade/$STDB_VERSION-$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$failed"
    mv "$MOUNT_POINT/data" "$MOUNT_POINT/config" "$failed/"
    cp -a "$copy/data" "$copy/config" "$MOUNT_POINT/"
    run_version "$from"
    server_answers || die "rollback to $from: the server does not answer either; the pre-upgrade copy is $copy (and the EBS snapshot taken before this host), the upgraded root $failed"
    die "upgrade $from → $STDB_VERSION failed: rolled back, SpacetimeDB $from serves the pre-upgrade root again (the upgraded root is kept at $failed). Set spacetimedb.version $from and run pulumi up"
}

main() {
    log "starting ($HOST_OS, volume $VOLUME_ID, SpacetimeDB $STDB_VERSION, front $FRONT)"
    # Administration goes through SSM Session Manager; nothing should listen for SSH.
    local unit
    for unit in sshd.service ssh.service; do
        systemctl disable --now "$unit" 2>/dev/null || true
    done

    local dev
    dev=$(data_device)
    # After the volume: downloads start once the attachment (and so the public address) is final.
    install_packages
    prepare_filesystem "$dev"
    mount_data "$dev"
    grow_filesystem

    ensure_user spacetimedb "$STDB_UID"
    install -d -o root -g root -m 0755 "$MOUNT_POINT" "$MOUNT_POINT/bin"
    install -d -o spacetimedb -g spacetimedb -m 0750 "$MOUNT_POINT/data"
    # The JWT signing keypair lives here; losing it invalidates every token, the deployer's too.
    install -d -o spacetimedb -g spacetimedb -m 0700 "$MOUNT_POINT/config"
    install_server

    install -d -m 0750 "$SERVER_LOG_DIR"
    systemctl enable --now rsyslog.service
    systemctl restart rsyslog.service
    # The SSM association re-applies this parameter on every change; this covers the first boot.
    "$CW_AGENT_CTL" -a fetch-config -m ec2 -s -c "ssm:$CW_AGENT_PARAMETER"

    systemctl daemon-reload
    start_server
    log "SpacetimeDB answers on 127.0.0.1:$STDB_PORT"

    case $FRONT in
    acme)
        install_caddy
        "$CADDY_BIN" validate --config "$CADDYFILE" --adapter caddyfile
        systemctl enable --now "$CADDY_UNIT"
        ;;
    alb)
        [[ -x $SOCKET_PROXYD ]] || die "$SOCKET_PROXYD missing"
        systemctl enable --now "$ALB_PROXY_SOCKET"
        ;;
    *) die "unknown front $FRONT" ;;
    esac
    log "done"
}

# Sourcing (the tests do) defines the functions without running them.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
