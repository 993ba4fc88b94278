import { z } from "zod";

/**
 * Small constructors shared by every config section. Each attaches a description and an
 * example through zod metadata: the error formatter and the generated config reference
 * both read them, so a key's documentation lives in exactly one place.
 */
export interface FieldMeta {
    description: string;
    example: unknown;
}

export function doc<T extends z.ZodType>(schema: T, description: string, example: unknown): T {
    return schema.meta({ description, examples: [example] }) as T;
}

export function intRange(min: number, max: number) {
    return z
        .number({ error: (iss) => `expected a whole number ${min}–${max}, got ${show(iss.input)}` })
        .int({ error: (iss) => `expected a whole number ${min}–${max}, got ${show(iss.input)}` })
        .min(min, { error: (iss) => `expected ${min}–${max}, got ${show(iss.input)}` })
        .max(max, { error: (iss) => `expected ${min}–${max}, got ${show(iss.input)}` });
}

export function bool() {
    return z.boolean({ error: (iss) => `expected true or false, got ${show(iss.input)}` });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
    return z.enum(values, {
        error: (iss) => `expected one of ${values.join(" | ")}, got ${show(iss.input)}`,
    });
}

export function pattern(re: RegExp, what: string) {
    return z.string({ error: (iss) => `expected ${what}, got ${show(iss.input)}` }).regex(re, { error: (iss) => `expected ${what}, got ${show(iss.input)}` });
}

export const SEMVER = /^\d+\.\d+\.\d+$/;
export const DNS_LABELS = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
export const CIDR4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

export function show(value: unknown): string {
    if (value === undefined) return "nothing";
    if (typeof value === "string") return JSON.stringify(value);
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}
