// The program's own deploy steps, run in the drill's deploy-runner container (the deploy address):
// the SpacetimeDB dynamic providers' create() with the inputs the program registered for the prod
// stack (captured under Pulumi mocks), chained the way the engine chains them (the identity's token
// feeds publish, settings and readiness). Plain Node with type stripping, built-ins only, like the
// providers it loads.
//   node ops/drill/host/deploy-steps.ts deploy STEPS.json CA.pem OUT.json
//   node ops/drill/host/deploy-steps.ts rows   STEPS.json CA.pem TOKEN OUT.json   (the deployed rows, as JSON)
import * as fs from "node:fs";
import * as database from "../../../infra/spacetimedb/database-impl.ts";
import { send } from "../../../infra/spacetimedb/http-impl.ts";
import * as identity from "../../../infra/spacetimedb/identity-impl.ts";
import * as settings from "../../../infra/spacetimedb/moduleSettings-impl.ts";
import { READINESS_QUERIES, sqlRequest, sqlRows } from "../../../infra/spacetimedb/protocol-impl.ts";
import * as readiness from "../../../infra/spacetimedb/readiness-impl.ts";

interface Steps {
    identity: identity.IdentityInputs;
    database: database.DatabaseInputs;
    settings: settings.ModuleSettingsInputs;
    readiness: readiness.ReadinessInputs;
}

async function deploy(steps: Steps, caCert: string, out: string): Promise<void> {
    const id = await identity.create({ ...steps.identity, caCert });
    const token = id.outs.token;
    const db = await database.create({ ...steps.database, token, caCert });
    const st = await settings.create({ ...steps.settings, token, caCert, publishRevision: String(db.outs.revision) });
    const ready = await readiness.create({ ...steps.readiness, token, caCert, revision: String(st.outs.revision) });
    fs.writeFileSync(out, JSON.stringify({ identity: id.outs.identity, token, database: db.outs, settings: st.outs, readiness: ready.outs }));
}

/** The rows the deploy wrote: the module's init event and every config row (settings included). */
async function rows(steps: Steps, caCert: string, token: string, out: string): Promise<void> {
    const result: unknown[][][] = [];
    for (const q of [READINESS_QUERIES.initEvents, "SELECT * FROM config"]) {
        const req = sqlRequest(steps.database.database, q, token);
        const res = await send(steps.database.serverUrl, req, steps.database.timeoutMs, caCert);
        if (res.status !== 200) throw new Error(`${q}: HTTP ${res.status} ${res.body}`);
        result.push(sqlRows(req, res));
    }
    fs.writeFileSync(out, JSON.stringify(result));
}

const [command, stepsFile, caCert, ...rest] = process.argv.slice(2);
const steps = JSON.parse(fs.readFileSync(stepsFile ?? "", "utf8")) as Steps;
const run =
    command === "deploy"
        ? deploy(steps, caCert!, rest[0]!)
        : command === "rows"
          ? rows(steps, caCert!, rest[0]!, rest[1]!)
          : Promise.reject(new Error("usage: deploy-steps.ts deploy|rows …"));
run.catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
});
