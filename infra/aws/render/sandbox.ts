/**
 * The systemd sandbox every service the prod host runs from this program starts from; each unit
 * adds what is its own (user, writable paths, address families, IP allow list) and says next to
 * it what it leaves open. Measured by `systemd-analyze security --offline=true` in
 * test/infra/aws/unitSecurity.test.ts (≤ 2.0 for every unit); the host drill runs them for real.
 */
export const SANDBOX: readonly string[] = [
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    // Pseudo devices only (null, zero, random…); implies DevicePolicy=closed for the device cgroup too.
    "PrivateDevices=yes",
    "PrivateMounts=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    // Other users' processes are invisible. (ProcSubset=pid, hiding the rest of /proc, is each unit's
    // own choice: the server and Caddy read tunables there.)
    "ProtectProc=invisible",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    // Files a service creates are its own: the server's data and JWT keys, Caddy's ACME key and certificates.
    "UMask=0077",
    "SystemCallArchitectures=native",
    // A refused system call fails with EPERM instead of killing the process: an unexpected call
    // shows up as an error in the journal, not as a crash loop of the database.
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "SystemCallErrorNumber=EPERM",
];
