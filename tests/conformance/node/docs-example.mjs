// Runs the Node example of docs/testing-with-rtk.md exactly as written: every ```js block whose
// first line is `// file: NAME` is written to NAME in a fresh directory under this package (so
// it resolves the `cloudflare` package installed here), then `node --test` runs it with
// RTK_BIN naming the binary under test. Fails if the block is missing, a test fails or none runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(process.argv[2], 'utf8');
const blocks = [...doc.matchAll(/```js\n\/\/ file: (\S+)\n([\s\S]*?)```/g)];
if (!blocks.some(([, name]) => name.endsWith('.test.mjs'))) {
  console.error(`${process.argv[2]}: no \`// file: ….test.mjs\` js block found`);
  process.exit(1);
}
const dir = mkdtempSync(join(here, '.docs-example-'));
try {
  const files = blocks.map(([, name, body]) => {
    writeFileSync(join(dir, name), `// file: ${name}\n${body}`);
    return join(dir, name);
  });
  let out;
  try {
    out = execFileSync(process.execPath, ['--test', '--test-reporter=tap', ...files.filter((f) => f.endsWith('.test.mjs'))], {
      encoding: 'utf8',
    });
  } catch (e) {
    process.stdout.write(e.stdout ?? '');
    process.stderr.write(e.stderr ?? '');
    console.error('docs example: a test failed');
    process.exit(1);
  }
  process.stdout.write(out);
  const passed = Number((out.match(/^# pass (\d+)/m) ?? [])[1] ?? 0);
  if (passed === 0) {
    console.error('docs example: no test passed');
    process.exit(5);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
