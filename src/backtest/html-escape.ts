/** Text from the input (account ids, rule reasons) is data: escaped wherever it lands in the report. */
export function esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
