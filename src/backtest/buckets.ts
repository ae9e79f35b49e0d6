/** Bucket widths a time axis may use: whole minutes, hours, days, so labels read naturally. */
const WIDTHS = [60_000, 300_000, 900_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000];

/** The finest width that shows `span` in fewer than `rows` buckets (the widest if none does). */
export function bucketWidth(span: number, rows: number): number {
  return WIDTHS.find((w) => span / w < rows) ?? WIDTHS[WIDTHS.length - 1]!;
}
