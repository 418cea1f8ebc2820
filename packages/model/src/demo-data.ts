/** Realistic demo entities for tests and benchmarks (exported through `internal.ts` only). */
import { create } from '@bufbuild/protobuf';
import { type Customer, CustomerSchema } from './gen/layer8/demo/v1/bench_pb.ts';
import { Status, type Wide50, Wide50Schema } from './gen/layer8/demo/v1/demo_pb.ts';

/** A 50-field inventory record with values of realistic lengths; `i` varies the id and numbers. */
export function demoWide50(i: number): Wide50 {
  return create(Wide50Schema, {
    id: `host-${String(i).padStart(4, '0')}`,
    name: `build-runner-${i}.eu-west.example.net`,
    description: 'CI build runner for the payments team, 16 vCPU, 64 GiB, NVMe scratch disk',
    owner: 'Platform Engineering',
    email: 'platform-oncall@example.com',
    phone: '+33 1 70 36 12 00',
    street: '12 rue de la Paix',
    city: 'Paris',
    zip: '75002',
    country: 'France',
    region: 'eu-west-3',
    department: 'Engineering',
    title: 'Build runner',
    manager: 'Camille Martin',
    team: 'payments-ci',
    site: 'PAR-2',
    url: `https://inventory.example.com/hosts/host-${i}`,
    notes: 'Scheduled for kernel upgrade during the next maintenance window',
    category: 'compute',
    vendor: 'Dell PowerEdge R650',
    count: 16,
    level: 3,
    rank: 120 + (i % 7),
    score: 87,
    retries: 2,
    createdMs: 1_717_000_000_000n + BigInt(i),
    updatedMs: 1_730_000_000_000n + BigInt(i),
    sizeBytes: 1_099_511_627_776n,
    quotaBytes: 2_199_023_255_552n,
    usedBytes: 734_003_200_000n,
    cpu: 0.42,
    memory: 0.61,
    load: 3.75,
    latencyMs: 12.5,
    errorRate: 0.0012,
    enabled: true,
    visible: true,
    archived: false,
    locked: false,
    verified: true,
    status: Status.PAID,
    port: 8443,
    versionMajor: 6,
    versionMinor: 8,
    versionPatch: 12,
    os: 'Ubuntu 24.04 LTS',
    arch: 'x86_64',
    kernel: '6.8.0-45-generic',
    hostname: `runner-${i}`,
    serial: `SN-7Q${String(i).padStart(6, '0')}`,
  });
}

/** The 20-field nested customer of the codec benchmark. */
export function demoCustomer(i: number): Customer {
  return create(CustomerSchema, {
    id: `cust-${i}`,
    firstName: 'Camille',
    lastName: 'Martin',
    email: 'camille.martin@example.com',
    age: 34,
    active: true,
    balance: 1234.56,
    createdMs: 1_717_000_000_000n + BigInt(i),
    updatedMs: 1_730_000_000_000n + BigInt(i),
    home: { street: '12 rue de la Paix', city: 'Paris', zip: '75002', country: 'France' },
    work: { street: '1 avenue des Champs-Élysées', city: 'Paris', zip: '75008', country: 'France' },
    phones: [
      { kind: 'mobile', number: '+33 6 12 34 56 78' },
      { kind: 'work', number: '+33 1 70 36 12 00' },
    ],
    tags: ['vip', 'newsletter', 'eu'],
    attributes: { segment: 'enterprise', source: 'web', language: 'fr' },
    company: 'Example SARL',
    title: 'Head of Operations',
    score: 87,
    rating: 4.5,
    notes: 'Prefers e-mail contact; renewal due in Q3',
    history: [12, 15, 9, 22, 31],
  });
}
