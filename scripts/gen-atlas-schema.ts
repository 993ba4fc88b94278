/** Writes infra/contract/atlas.schema.json from the zod contract (a test fails when it is stale). */
import * as fs from "node:fs";
import * as path from "node:path";
import { atlasJsonSchema } from "../infra/contract/atlas";

export const ATLAS_SCHEMA_FILE = path.join(__dirname, "..", "infra", "contract", "atlas.schema.json");
export const renderAtlasSchema = () => `${JSON.stringify(atlasJsonSchema(), null, 2)}\n`;

if (require.main === module) {
    fs.writeFileSync(ATLAS_SCHEMA_FILE, renderAtlasSchema());
    console.log(`wrote ${path.relative(process.cwd(), ATLAS_SCHEMA_FILE)}`);
}
