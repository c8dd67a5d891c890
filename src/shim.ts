// ssh2 reads __dirname at load time, which an ESM bundle does not define: provide it first.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const g = globalThis as { __filename?: string; __dirname?: string };
g.__filename ??= fileURLToPath(import.meta.url);
g.__dirname ??= dirname(g.__filename);
