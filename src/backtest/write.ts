import { realpath, rename, stat, writeFile, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export class OutputPathError extends Error {
  override name = 'OutputPathError';
}

const real = async (path: string) => realpath(path).catch(() => resolve(path));

/**
 * Checked before a long run rather than after it: every output goes to an existing directory, is not a directory
 * itself, and is none of the inputs nor another output (writing the report over the event history would lose it).
 */
export async function checkOutputs(outputs: readonly string[], inputs: readonly string[]): Promise<void> {
  const taken = new Map<string, string>();
  for (const file of inputs) taken.set(await real(file), file);
  for (const file of outputs) {
    const dir = await stat(dirname(resolve(file))).catch(() => undefined);
    if (!dir?.isDirectory()) throw new OutputPathError(`cannot write ${file}: ${dirname(file)} is not a directory`);
    if ((await stat(file).catch(() => undefined))?.isDirectory()) throw new OutputPathError(`cannot write ${file}: it is a directory`);
    const path = await real(file);
    const clash = taken.get(path);
    if (clash !== undefined) throw new OutputPathError(`refusing to write ${file}: it is the same file as ${clash}`);
    taken.set(path, file);
  }
}

/** Writes beside the target and renames, so a reader never sees half a report and a failure leaves the old one. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
