import * as fs from "node:fs";

/**
 * How long until the data filesystem is full at the rate it has been filling: a least-squares
 * line through (time, bytes used) samples. SpacetimeDB 1.2 never deletes a commitlog segment or
 * a snapshot, so the line only bends when writes change pace; `status` shows the forecast and
 * says when it is short.
 */
export interface UsageSample {
    /** ms since the epoch */
    at: number;
    usedBytes: number;
}

export interface Forecast {
    /** Days until full; null when usage is flat or falling (no date to give). */
    daysUntilFull: number | null;
    bytesPerDay: number;
    samples: number;
    spanHours: number;
}

/** At least this much history before a rate means anything. */
export const MIN_SPAN_MS = 3_600_000;
const DAY_MS = 86_400_000;

export function forecast(samples: UsageSample[], capacityBytes: number): Forecast | undefined {
    if (samples.length < 2) return undefined;
    const span = samples[samples.length - 1]!.at - samples[0]!.at;
    if (span < MIN_SPAN_MS) return undefined;
    const n = samples.length;
    const mx = samples.reduce((s, p) => s + p.at, 0) / n;
    const my = samples.reduce((s, p) => s + p.usedBytes, 0) / n;
    const sxx = samples.reduce((s, p) => s + (p.at - mx) ** 2, 0);
    const sxy = samples.reduce((s, p) => s + (p.at - mx) * (p.usedBytes - my), 0);
    const perMs = sxx > 0 ? sxy / sxx : 0;
    const bytesPerDay = Math.round(perMs * DAY_MS * 100) / 100;
    const used = samples[n - 1]!.usedBytes;
    const daysUntilFull = bytesPerDay > 0 ? Math.max(0, Math.round(((capacityBytes - used) / bytesPerDay) * 10) / 10) : null;
    return { daysUntilFull, bytesPerDay, samples: n, spanHours: Math.round((span / 3_600_000) * 10) / 10 };
}

/** Samples kept (each `status` run adds one): 30 days at most, 2,000 lines at most. */
const KEEP_MS = 30 * DAY_MS;
const KEEP_LINES = 2000;

/**
 * The local history: one JSON line per `status` run, beside the root (like its pid and log
 * files), private to its owner. Unreadable lines are skipped: a torn last line after a crash
 * costs one sample, not the forecast.
 */
export function recordUsage(file: string, sample: UsageSample): UsageSample[] {
    const old = fs.existsSync(file)
        ? fs
              .readFileSync(file, "utf8")
              .split("\n")
              .flatMap((l) => {
                  try {
                      const s = JSON.parse(l) as UsageSample;
                      return typeof s.at === "number" && typeof s.usedBytes === "number" ? [s] : [];
                  } catch {
                      return [];
                  }
              })
        : [];
    const kept = [...old, sample].filter((s) => sample.at - s.at <= KEEP_MS).slice(-KEEP_LINES);
    try {
        fs.writeFileSync(`${file}.partial`, kept.map((s) => JSON.stringify(s)).join("\n") + "\n", { mode: 0o600 });
        fs.renameSync(`${file}.partial`, file);
    } catch {
        // A full disk (the very thing status reports) must not stop the report: this sample is not kept.
        fs.rmSync(`${file}.partial`, { force: true });
    }
    return kept;
}
