/**
 * Ephemeral stack names: `eph-<label>-<time>-<random>`. The fixed prefix is what lets `down` refuse
 * every long-lived stack by name alone; the label groups a pull request's stacks for the sweep on
 * close; time and randomness keep concurrent runs apart. At most 31 characters, lower case, so the
 * name is also a valid environment name (`^[a-z][a-z0-9-]{0,30}$`) for the atlas output.
 */

export const EPHEMERAL_PREFIX = "eph-";
const MAX_LENGTH = 31;
const MAX_LABEL = 12;

export interface NameParts {
    label: string;
    /** Milliseconds since the epoch. */
    now: number;
    /** Four random base-36 characters. */
    random: string;
}

/** Lower-case, dash-separated, at most 12 characters: `PR #123` → `pr-123`. */
export function slugLabel(label: string): string {
    const slug = label
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, MAX_LABEL)
        .replace(/-+$/, "");
    if (!slug) throw new Error(`ephemeral label ${JSON.stringify(label)} has no letters or digits`);
    return slug;
}

export function ephemeralStackName(parts: NameParts): string {
    if (!/^[a-z0-9]{4}$/.test(parts.random)) throw new Error(`random part must be 4 base-36 characters, got ${JSON.stringify(parts.random)}`);
    const time = Math.floor(parts.now / 1000).toString(36);
    const name = `${EPHEMERAL_PREFIX}${slugLabel(parts.label)}-${time}-${parts.random}`;
    if (name.length > MAX_LENGTH) throw new Error(`ephemeral stack name ${name} exceeds ${MAX_LENGTH} characters`);
    return name;
}

/** The prefix shared by every stack created for one label (the trailing dash keeps pr-1 apart from pr-12). */
export function labelPrefix(label: string): string {
    return `${EPHEMERAL_PREFIX}${slugLabel(label)}-`;
}

const NAME = /^eph-[a-z0-9]+(-[a-z0-9]+)*-[a-z0-9]{1,8}-[a-z0-9]{4}$/;

export function isEphemeralStackName(name: string): boolean {
    return name.length <= MAX_LENGTH && NAME.test(name);
}

export function randomPart(): string {
    let s = "";
    while (s.length < 4) s += Math.floor(Math.random() * 36).toString(36);
    return s;
}
