// Hand-written module bindings: mirrors the `index.ts` that `spacetime generate --lang typescript`
// (CLI 1.2/1.3, for @clockworklabs/spacetimedb-sdk 1.3.x) emits, restricted to table `config` and
// reducers `set_config` and `refresh_system_status`. See config_type.ts for why they are
// hand-written and how a mismatch with the module is caught (the e2e test fails, it cannot pass).

import {
    BinaryWriter,
    ClientCache,
    DbConnectionBuilder,
    DbConnectionImpl,
    SubscriptionBuilderImpl,
    type CallReducerFlags,
    type ErrorContextInterface,
    type Event,
    type EventContextInterface,
    type ReducerEventContextInterface,
    type SubscriptionEventContextInterface,
} from "@clockworklabs/spacetimedb-sdk";

// Import and reexport all reducer arg types
import { RefreshSystemStatus } from "./refresh_system_status_reducer";
export { RefreshSystemStatus };
import { SetConfig } from "./set_config_reducer";
export { SetConfig };

// Import and reexport all table handle types
import { ConfigTableHandle } from "./config_table";
export { ConfigTableHandle };

// Import and reexport all types
import { Config } from "./config_type";
export { Config };

/** The CLI version these bindings stand in for (the SDK refuses bindings older than 1.2.0). */
export const BINDINGS_CLI_VERSION = "1.2.0";

export const REMOTE_MODULE = {
    tables: {
        config: {
            tableName: "config",
            rowType: Config.getTypeScriptAlgebraicType(),
            primaryKey: "key",
            primaryKeyInfo: {
                colName: "key",
                colType: Config.getTypeScriptAlgebraicType().product.elements[0]!.algebraicType,
            },
        },
    },
    reducers: {
        refresh_system_status: {
            reducerName: "refresh_system_status",
            argsType: RefreshSystemStatus.getTypeScriptAlgebraicType(),
        },
        set_config: {
            reducerName: "set_config",
            argsType: SetConfig.getTypeScriptAlgebraicType(),
        },
    },
    versionInfo: {
        cliVersion: BINDINGS_CLI_VERSION,
    },
    // Constructors which are used by the DbConnectionImpl to
    // extract type information from the generated RemoteModule.
    //
    // NOTE: This is not strictly necessary for `eventContextConstructor` because
    // all we do is build a TypeScript object which we could have done inside the
    // SDK, but if in the future we wanted to create a class this would be
    // necessary because classes have methods, so we'll keep it.
    eventContextConstructor: (imp: DbConnectionImpl, event: Event<Reducer>) => {
        return {
            ...(imp as DbConnection),
            event,
        };
    },
    dbViewConstructor: (imp: DbConnectionImpl) => {
        return new RemoteTables(imp);
    },
    reducersConstructor: (imp: DbConnectionImpl, setReducerFlags: SetReducerFlags) => {
        return new RemoteReducers(imp, setReducerFlags);
    },
    setReducerFlagsConstructor: () => {
        return new SetReducerFlags();
    },
};

// A type representing all the possible variants of a reducer.
export type Reducer = never | { name: "RefreshSystemStatus"; args: RefreshSystemStatus } | { name: "SetConfig"; args: SetConfig };

export class RemoteReducers {
    constructor(
        private connection: DbConnectionImpl,
        private setCallReducerFlags: SetReducerFlags,
    ) {}

    refreshSystemStatus() {
        this.connection.callReducer("refresh_system_status", new Uint8Array(0), this.setCallReducerFlags.refreshSystemStatusFlags);
    }

    onRefreshSystemStatus(callback: (ctx: ReducerEventContext) => void) {
        this.connection.onReducer("refresh_system_status", callback);
    }

    removeOnRefreshSystemStatus(callback: (ctx: ReducerEventContext) => void) {
        this.connection.offReducer("refresh_system_status", callback);
    }

    setConfig(key: string, value: string) {
        const __args = { key, value };
        const __writer = new BinaryWriter(1024);
        SetConfig.getTypeScriptAlgebraicType().serialize(__writer, __args);
        const __argsBuffer = __writer.getBuffer();
        this.connection.callReducer("set_config", __argsBuffer, this.setCallReducerFlags.setConfigFlags);
    }

    onSetConfig(callback: (ctx: ReducerEventContext, key: string, value: string) => void) {
        this.connection.onReducer("set_config", callback as (ctx: ReducerEventContext, ...args: unknown[]) => void);
    }

    removeOnSetConfig(callback: (ctx: ReducerEventContext, key: string, value: string) => void) {
        this.connection.offReducer("set_config", callback as (ctx: ReducerEventContext, ...args: unknown[]) => void);
    }
}

export class SetReducerFlags {
    refreshSystemStatusFlags: CallReducerFlags = "FullUpdate";
    refreshSystemStatus(flags: CallReducerFlags) {
        this.refreshSystemStatusFlags = flags;
    }

    setConfigFlags: CallReducerFlags = "FullUpdate";
    setConfig(flags: CallReducerFlags) {
        this.setConfigFlags = flags;
    }
}

/** `clientCache` is public at runtime but declared private in the SDK's d.ts. */
function clientCacheOf(imp: DbConnectionImpl): ClientCache {
    return (imp as unknown as { clientCache: ClientCache }).clientCache;
}

export class RemoteTables {
    constructor(private connection: DbConnectionImpl) {}

    get config(): ConfigTableHandle {
        return new ConfigTableHandle(clientCacheOf(this.connection).getOrCreateTable<Config>(REMOTE_MODULE.tables.config));
    }
}

export class SubscriptionBuilder extends SubscriptionBuilderImpl<RemoteTables, RemoteReducers, SetReducerFlags> {}

export class DbConnection extends DbConnectionImpl<RemoteTables, RemoteReducers, SetReducerFlags> {
    static builder = (): DbConnectionBuilder<DbConnection, ErrorContext, SubscriptionEventContext> => {
        return new DbConnectionBuilder<DbConnection, ErrorContext, SubscriptionEventContext>(REMOTE_MODULE, (imp: DbConnectionImpl) => imp as DbConnection);
    };
    override subscriptionBuilder = (): SubscriptionBuilder => {
        return new SubscriptionBuilder(this);
    };
}

export type EventContext = EventContextInterface<RemoteTables, RemoteReducers, SetReducerFlags, Reducer>;
export type ReducerEventContext = ReducerEventContextInterface<RemoteTables, RemoteReducers, SetReducerFlags, Reducer>;
export type SubscriptionEventContext = SubscriptionEventContextInterface<RemoteTables, RemoteReducers, SetReducerFlags>;
export type ErrorContext = ErrorContextInterface<RemoteTables, RemoteReducers, SetReducerFlags>;
