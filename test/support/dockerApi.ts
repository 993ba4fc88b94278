import type { CapturedResource } from "./harness";

/** The program's container spec, handed to the daemon through the Engine API (ops/docker.ts), as @pulumi/docker's provider would. */
export { docker as dockerApi } from "../../ops/docker";

const NS = 1_000_000_000;
const seconds = (s: string) => {
    const m = /^(\d+)s$/.exec(s);
    if (!m) throw new Error(`unsupported duration ${s}`);
    return Number(m[1]) * NS;
};

/** docker.Container inputs (as the program registered them) → Engine API create body. */
export function createBody(container: CapturedResource, imageOverride?: string): Record<string, unknown> {
    const i = container.inputs;
    const ports: { internal: number; external: number; ip: string; protocol: string }[] = i.ports ?? [];
    const exposed = Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol}`, {}]));
    const bindings = Object.fromEntries(ports.map((p) => [`${p.internal}/${p.protocol}`, [{ HostIp: p.ip, HostPort: String(p.external) }]]));
    const hc = i.healthcheck;
    return {
        Image: imageOverride ?? i.image,
        Cmd: i.command,
        Labels: Object.fromEntries((i.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        StopSignal: i.stopSignal,
        StopTimeout: i.stopTimeout,
        ExposedPorts: exposed,
        Healthcheck: hc ? { Test: hc.tests, Interval: seconds(hc.interval), Timeout: seconds(hc.timeout), Retries: hc.retries, StartPeriod: seconds(hc.startPeriod) } : undefined,
        HostConfig: {
            PortBindings: bindings,
            Mounts: (i.volumes ?? []).map((v: { volumeName: string; containerPath: string }) => ({ Type: "volume", Source: v.volumeName, Target: v.containerPath })),
            RestartPolicy: { Name: i.restart ?? "no" },
            Init: i.init ?? false,
            ...(i.memory ? { Memory: i.memory * 1024 * 1024 } : {}),
            LogConfig: { Type: i.logDriver ?? "json-file", Config: i.logOpts ?? {} },
        },
    };
}
