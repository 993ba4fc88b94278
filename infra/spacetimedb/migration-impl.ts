// The migration plan of a publish, computed before anything is published: the schema the
// server runs now (GET /v1/database/<name>/schema?version=9, no token needed) against the new
// wasm's module definition (read in Node, no server: moduleDef.ts), classified by 1.2's
// automatic-migration rules (migrationPlan.ts), with what `spacetimedb.publish.delete_data`
// makes of it. The Database provider's `check` calls it, so `pulumi preview` shows the plan and
// fails on a refused migration under `never`.
//
// Erasable TypeScript, Node built-ins only (loaded by the dynamic-provider process).

import { ApiError, type ApiRequest, describeAnswer, send } from "./http-impl.ts";
import { formatPlan, type PublishDecision, planMigration, publishDecision } from "./migrationPlan.ts";
import { describeWasm } from "./moduleDef.ts";
import type { DeleteDataPolicy } from "./protocol-impl.ts";
import { parseServerSchemaText, schemaPath } from "./serverSchema.ts";

export interface PlannedPublish {
    decision: PublishDecision;
    /** One line per step, then the verdict and the delete_data consequence. */
    lines: string[];
}

export interface PlanTarget {
    serverUrl: string;
    database: string;
    deleteData: DeleteDataPolicy;
    timeoutMs: number;
    caCert?: string;
}

export async function planPublish(target: PlanTarget, wasm: Uint8Array): Promise<PlannedPublish> {
    const req: ApiRequest = { method: "GET", route: schemaPath(target.database) };
    const res = await send(target.serverUrl, req, target.timeoutMs, target.caCert);
    if (res.status !== 200 && res.status !== 404) throw new ApiError(describeAnswer(req, res), res.status, res.body);
    const current = res.status === 404 ? undefined : parseServerSchemaText(res.body);
    const plan = planMigration(current, await describeWasm(wasm));
    return { decision: publishDecision(plan, target.deleteData), lines: formatPlan(plan, target.deleteData) };
}

/** The check failure a refused migration becomes: the plan, and the ways forward. */
export function refusalMessage(database: string, lines: string[]): string {
    return [
        `the new module cannot be published to ${database} without losing data; nothing was published. Migration plan:`,
        ...lines.map((l) => `  ${l}`),
        "Fix: make the change additive (a new table instead of a changed column), or migrate by hand (backup export/import),",
        "or, if losing every row is acceptable, set inner-universe:spacetimedb.publish.delete_data to on_conflict for this deploy.",
    ].join("\n");
}
