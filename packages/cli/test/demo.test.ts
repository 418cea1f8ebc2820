import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { children, l8, spawnL8, tempDir } from './cli-kit.ts';

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

/** The words of a command line as a POSIX shell splits them (plain words and single quotes: what the demo prints). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)) out.push(m[1]?.replaceAll("'\\''", "'") ?? m[2] ?? '');
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('l8 demo: every printed command (l8 and curl through the gateway) works, and SIGINT leaves no process behind', {
  timeout: 120_000,
}, async () => {
  const data = tempDir('l8-demo-');
  const { child, match } = await spawnL8(['demo', '--data', data], /([\s\S]*)l8 demo ready/);
  const printed = match[1] ?? '';
  const pids = [...printed.matchAll(/runs as pid (\d+)/g)].map((m) => Number(m[1]));
  assert.equal(pids.length, 4, printed);
  const commands = printed
    .split('\n')
    .filter((l) => l.startsWith('  npx l8 '))
    .map((l) => words(l.slice('  npx l8 '.length)));
  assert.ok(commands.length >= 8, printed);
  for (const args of commands) {
    const r = await l8(args);
    assert.equal(r.code, 0, `l8 ${args.join(' ')}: ${r.err}`);
    assert.notEqual(r.out, '', `l8 ${args.join(' ')} prints its answer`);
    if (args[0] === 'services') {
      assert.match(r.out, /^Orders\s+0\s+2\s+.*\(serving\).*\(serving\)/m, 'both Orders instances say they serve');
      assert.doesNotMatch(r.out, /\.changes/, 'change streams are not listed as services');
    }
  }
  const login = printed.split('\n').find((l) => l.startsWith('  export L8_TOKEN='));
  assert.ok(login !== undefined, printed);
  const curls = printed.split('\n').filter((l) => l.startsWith('  curl '));
  assert.equal(curls.length, 4, printed);
  // pasted into one shell: the token line first, then each curl
  const answers = curls.map((line) => execFileSync('sh', ['-c', `${login}\n${line}`], { encoding: 'utf8' }));
  assert.deepEqual(
    (JSON.parse(answers[0] as string) as { items: { id: string }[] }).items.map((i) => i.id),
    ['1', '3'],
    'the L8QL query through the gateway',
  );
  assert.equal((JSON.parse(answers[1] as string) as { item: { city: string } }).item.city, 'Lisbon');
  assert.equal((JSON.parse(answers[2] as string) as { version: number }).version, 1);
  assert.equal(answers[3]?.trim(), '204', 'the DELETE answers 204');
  const anonymous = execFileSync(
    'sh',
    ['-c', `${(curls[2] as string).replace(/-H "Authorization: Bearer \$L8_TOKEN" /, '')} -w ' %{http_code}'`],
    {
      encoding: 'utf8',
    },
  );
  assert.match(anonymous, /"L8_ERR_AUTH".* 401$/, 'without the token: 401');
  assert.match(printed, /REST and OpenAPI: http:\/\/127\.0\.0\.1:\d+\/docs/);
  assert.match(printed, /dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard \(log in as demo, password \S+\)/);
  // what the commands did shows through the overlay: the order written via one VNet and deleted via the other is gone
  const [first] = commands;
  const join = first?.slice(first.indexOf('--vnet')) ?? [];
  const gone = await l8(['call', 'Orders', '0', 'get', '{"key":"4"}', ...join]);
  assert.match(gone.err, /^l8: L8_ERR_NOT_FOUND: /m);
  const open = await l8(['call', 'Orders', '0', 'GET', 'select * from Order where status = 1', '--json', ...join]);
  assert.equal(open.code, 0, open.err);
  assert.deepEqual(
    (JSON.parse(open.out) as { items: { key: string }[] }).items.map((i) => i.key),
    ['1', '3'],
  );

  const exited = new Promise<number | null>((r) => child.once('exit', r));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  assert.deepEqual(
    pids.filter((p) => alive(p)),
    [],
    'every service process is gone',
  );
});
