import type { Dump } from "../../ops/backup/sql";

/**
 * What a fault suite did, printed at its end ("[faults] {...}"): faults injected, inputs refused,
 * acknowledged writes checked afterwards, and writes lost (which every test asserts is 0).
 */
export const faults = { injected: 0, refused: 0, writesChecked: 0, writesLost: 0 };

/**
 * Rows of `before` missing from `after`. A deploy writes too: the publish rewrites the settings
 * rows (same key and value, a new time) and logs CONFIG_UPDATED, later writes move counters on, and the server keeps
 * system_status and client_connection itself; so config is compared by key and value, the
 * server's own tables not at all, and every other row must still be there.
 */
export function lostRows(before: Dump, after: Dump): string[] {
    const own = new Set(["system_status", "client_connection"]);
    // Rows updated in place: config by key and value; a counter by its key (later writes move it on).
    const cols: Record<string, number> = { config: 2, version_counter: 1 };
    const keyed = (t: string, r: string) => (cols[t] ? JSON.stringify((JSON.parse(r) as unknown[]).slice(0, cols[t])) : r);
    return Object.entries(before).flatMap(([t, { rows: rs }]) => {
        if (own.has(t)) return [];
        const have = new Set((after[t]?.rows ?? []).map((r) => keyed(t, r)));
        return rs.filter((r) => !have.has(keyed(t, r))).map((r) => `${t}: ${r}`);
    });
}
