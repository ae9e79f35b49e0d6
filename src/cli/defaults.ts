import { fileURLToPath } from 'node:url';

/** The rule pack shipped with the package (src/cli and dist/cli are both two levels below the root). */
export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../rules', import.meta.url));
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../../rules/policy.yaml', import.meta.url));
