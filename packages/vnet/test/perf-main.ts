import { fork } from 'node:child_process';
import { DevProvider } from '@layer8/security';
import { VNic } from '@layer8/vnic';

const sock = `/tmp/perf/v-${process.pid}.sock`;
const start = (role: string, extra: string[] = []) =>
  new Promise<any>((res) => {
    const c = fork('/work/main/packages/vnet/test/perf-role.ts', [role, sock], {
      execArgv: ['--conditions=source', '--import', 'tsx', ...extra],
    });
    c.once('message', () => res(c));
  });
const prof = process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/perf/prof'] : [];
const vnet = await start('vnet', prof);
const resp = await start('responder', prof);
const n = new VNic({
  provider: new DevProvider({ passphrase: 'perf-passphrase', warn: () => {} }),
  vnet: { path: sock },
});
await n.connect();
while (n.health.instances('echo', 0).length === 0) await new Promise((r) => setTimeout(r, 10));
const payload = new Uint8Array(100);
const cpuOf = (c: any) =>
  new Promise<number>((r) => {
    c.once('message', (m: any) => r(m.cpu.user + m.cpu.system));
    c.send('cpu');
  });
async function run(conc: number, ms: number) {
  let done = 0;
  const end = performance.now() + ms;
  const c0 = [await cpuOf(vnet), await cpuOf(resp), process.cpuUsage()];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (performance.now() < end) {
        await n.request({ service: 'echo' }, payload);
        done++;
      }
    }),
  );
  const t = performance.now() - t0;
  const cu = process.cpuUsage(c0[2] as any);
  const cpu = (await cpuOf(vnet)) - (c0[0] as number) + (await cpuOf(resp)) - (c0[1] as number) + cu.user + cu.system;
  console.log(
    `c${conc}: ${Math.round((done / t) * 1000)} req/s, cpu ${(cpu / done).toFixed(1)} us/op, frames/write ${(n.linkStats!.framesOut / n.linkStats!.writes).toFixed(1)}`,
  );
}
await run(100, 1000);
await run(100, 3000);
await run(1, 2000);
vnet.disconnect();
resp.disconnect();
await n.close();
process.exit(0);
