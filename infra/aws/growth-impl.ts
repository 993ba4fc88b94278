// Dynamic provider of `FilesystemGrowth` (infra/aws/volumeGate.ts): after a larger
// aws.data_volume.size_gb has modified the EBS volume in place, the running host's XFS grows to it.
//
// - update, when the size grew and the host is the same: once EBS reports the modification
//   optimizing or completed, SSM runs growCommand on the host (AWS-RunShellScript) and the `up`
//   waits for its result, recording the filesystem's new size. A replaced host grew on boot
//   (bootstrap.sh grow_filesystem): nothing to send.
// - create records the first state; delete: nothing.
//
// Erasable TypeScript (loaded by the dynamic-provider process).

import { DescribeVolumesModificationsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from "@aws-sdk/client-ssm";
import { call } from "./volumeGate-impl.ts";

export interface GrowthInputs {
    stack: string;
    region: string;
    volumeId: string;
    instanceId: string;
    sizeGb: number;
    mountPoint: string;
    maxWaitSeconds: number;
}

export type GrowthOutputs = GrowthInputs & { grownToBytes?: number };

/** What SSM runs on the host (the drill runs the same line): grow, then print the new size in bytes. */
export const growCommand = (mountPoint: string) => `xfs_growfs ${mountPoint} >/dev/null && df -B1 --output=size ${mountPoint} | tail -n1`;

/** Whether an update must grow the running host's filesystem. */
export const mustGrow = (olds: GrowthInputs, news: GrowthInputs) => news.sizeGb > olds.sizeGb && olds.instanceId === news.instanceId;

export async function diff(_id: string, olds: GrowthOutputs, news: GrowthInputs) {
    return { changes: olds.sizeGb !== news.sizeGb || olds.instanceId !== news.instanceId || olds.volumeId !== news.volumeId };
}

export async function create(inputs: GrowthInputs) {
    return { id: `growth-${inputs.stack}`, outs: inputs };
}

export async function update(_id: string, olds: GrowthOutputs, news: GrowthInputs) {
    if (!mustGrow(olds, news)) return { outs: { ...news, ...(olds.grownToBytes ? { grownToBytes: olds.grownToBytes } : {}) } };
    return { outs: { ...news, grownToBytes: await growOnHost(news) } };
}

export async function remove() {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until EBS has the new size (optimizing or completed), then runs xfs_growfs through SSM; returns the filesystem's new size in bytes. */
export async function growOnHost(i: GrowthInputs, pollMs = 5000): Promise<number> {
    const ec2 = new EC2Client({ region: i.region });
    const deadline = Date.now() + i.maxWaitSeconds * 1000;
    for (;;) {
        const r = await call(`DescribeVolumesModifications of ${i.volumeId}`, ec2.send(new DescribeVolumesModificationsCommand({ VolumeIds: [i.volumeId] })));
        const m = r.VolumesModifications?.find((x) => x.TargetSize === i.sizeGb) ?? r.VolumesModifications?.[0];
        if (m?.ModificationState === "failed") throw new Error(`EBS could not grow ${i.volumeId} to ${i.sizeGb} GiB: ${m.StatusMessage ?? "modification failed"}`);
        if (!m || m.ModificationState === "optimizing" || m.ModificationState === "completed") break;
        if (Date.now() > deadline)
            throw new Error(`${i.volumeId} still ${m.ModificationState} after ${i.maxWaitSeconds}s; run \`${growCommand(i.mountPoint)}\` on ${i.instanceId} once it is optimizing`);
        await sleep(pollMs);
    }
    const ssm = new SSMClient({ region: i.region });
    const sent = await call(
        `SSM SendCommand to ${i.instanceId}`,
        ssm.send(
            new SendCommandCommand({
                InstanceIds: [i.instanceId],
                DocumentName: "AWS-RunShellScript",
                Comment: `inner-universe ${i.stack}: grow ${i.mountPoint} to ${i.sizeGb} GiB`,
                Parameters: { commands: [growCommand(i.mountPoint)] },
            }),
        ),
    );
    const commandId = sent.Command!.CommandId!;
    for (;;) {
        await sleep(Math.min(pollMs, 2000));
        const inv = await call(`SSM GetCommandInvocation ${commandId}`, ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: i.instanceId }))).catch(
            (e: Error) => {
                if (/InvocationDoesNotExist/.test(e.message) && Date.now() < deadline) return undefined;
                throw e;
            },
        );
        if (!inv || ["Pending", "InProgress", "Delayed"].includes(inv.Status ?? "")) {
            if (Date.now() > deadline) throw new Error(`SSM command ${commandId} on ${i.instanceId} not finished after ${i.maxWaitSeconds}s`);
            continue;
        }
        if (inv.Status !== "Success")
            throw new Error(`${growCommand(i.mountPoint)} on ${i.instanceId}: ${inv.Status}: ${(inv.StandardErrorContent || inv.StandardOutputContent || "").trim()}`);
        return Number((inv.StandardOutputContent ?? "").trim().split("\n").at(-1)) || 0;
    }
}
