/** Writes infra/contract/atlas.schema.json from the zod contract (a test fails when it is stale). */
import * as fs from "node:fs";
import * as path from "node:path";
import { atlasJsonSchema } from "../infra/contract/atlas";

export const ATLAS_SCHEMA_FILE = path.join(__dirname, "..", "infra", "contract", "atlas.schema.json");
/** The Python reader ships its own copy as package data. */
export const PYTHON_SCHEMA_COPY = path.join(__dirname, "..", "readers", "python", "src", "inner_universe_atlas", "atlas.schema.json");
export const renderAtlasSchema = () => `${JSON.stringify(atlasJsonSchema(), null, 2)}\n`;

if (require.main === module) {
    for (const file of [ATLAS_SCHEMA_FILE, PYTHON_SCHEMA_COPY]) {
        fs.writeFileSync(file, renderAtlasSchema());
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
}
