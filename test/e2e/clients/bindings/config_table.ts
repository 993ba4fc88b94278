// Hand-written module bindings: mirrors `spacetime generate --lang typescript` (SDK 1.3.x) output
// for table `config`. See config_type.ts for why, and how a mismatch is caught (the e2e test
// fails, it cannot pass).

import { deepEqual, type TableCache } from "@clockworklabs/spacetimedb-sdk";
import type { Config } from "./config_type";
import type { EventContext } from ".";

/**
 * Table handle for the table `config`.
 *
 * Obtain a handle from the [`config`] property on [`RemoteTables`],
 * like `ctx.db.config`.
 *
 * Users are encouraged not to explicitly reference this type,
 * but to directly chain method calls,
 * like `ctx.db.config.on_insert(...)`.
 */
export class ConfigTableHandle {
    tableCache: TableCache<Config>;

    constructor(tableCache: TableCache<Config>) {
        this.tableCache = tableCache;
    }

    count(): number {
        return this.tableCache.count();
    }

    iter(): Iterable<Config> {
        return this.tableCache.iter() as Config[];
    }

    /**
     * Access to the `key` unique index on the table `config`,
     * which allows point queries on the field of the same name
     * via the [`ConfigKeyUnique.find`] method.
     *
     * Users are encouraged not to explicitly reference this type,
     * but to directly chain method calls,
     * like `ctx.db.config.key().find(...)`.
     *
     * Get a handle on the `key` unique index on the table `config`.
     */
    key = {
        // Find the subscribed row whose `key` column value is equal to `col_val`,
        // if such a row is present in the client cache.
        find: (col_val: string): Config | undefined => {
            for (const row of this.tableCache.iter() as Config[]) {
                if (deepEqual(row.key, col_val)) {
                    return row;
                }
            }
            return undefined;
        },
    };

    onInsert = (cb: (ctx: EventContext, row: Config) => void) => {
        return this.tableCache.onInsert(cb);
    };

    removeOnInsert = (cb: (ctx: EventContext, row: Config) => void) => {
        return this.tableCache.removeOnInsert(cb);
    };

    onDelete = (cb: (ctx: EventContext, row: Config) => void) => {
        return this.tableCache.onDelete(cb);
    };

    removeOnDelete = (cb: (ctx: EventContext, row: Config) => void) => {
        return this.tableCache.removeOnDelete(cb);
    };

    // Updates are only defined for tables with primary keys.
    onUpdate = (cb: (ctx: EventContext, oldRow: Config, newRow: Config) => void) => {
        return this.tableCache.onUpdate(cb);
    };

    removeOnUpdate = (cb: (ctx: EventContext, onRow: Config, newRow: Config) => void) => {
        return this.tableCache.removeOnUpdate(cb);
    };
}
