/** Sizes and durations in short words, for messages, progress texts and node status (which must stay under 20 characters). */

/** 512 bytes, 1.5 kB, 12.3 MB. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / (1024 * 1024)).toFixed(1)} MB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} kB`;
  return `${n} bytes`;
}

/** Whole seconds up to two minutes (90s), then rounded-up minutes (3min). */
export function formatSeconds(s: number): string {
  if (s < 120) return `${s}s`;
  return `${Math.ceil(s / 60)}min`;
}
