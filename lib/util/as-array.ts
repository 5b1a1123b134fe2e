/** A decoded XML value as a list: absent is empty, one element is a list of one (the codec gives repeated elements as arrays). */
export function asArray<T = unknown>(v: unknown): T[] {
  return v === undefined || v === null ? [] : Array.isArray(v) ? (v as T[]) : [v as T];
}
