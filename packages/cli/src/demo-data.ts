/** The items `l8 demo` seeds, per service, in protobuf JSON of the demo models (`@layer8/fixtures`). */
export const DEMO_ITEMS: Readonly<Record<string, readonly object[]>> = {
  Orders: [
    { id: '1', number: 'A-1', customerId: 'c1', status: 'STATUS_OPEN', city: 'Berlin' },
    { id: '2', number: 'A-2', customerId: 'c2', status: 'STATUS_PAID', city: 'Paris' },
    { id: '3', number: 'A-3', customerId: 'c1', status: 'STATUS_OPEN', city: 'Rome' },
  ],
  Seats: [
    { tenant: 't1', row: 'A', no: 1, taken: false },
    { tenant: 't1', row: 'A', no: 2, taken: false },
    { tenant: 't1', row: 'B', no: 1, taken: true },
  ],
};

/** The services of the demo, one instance of each per VNet. */
export const DEMO_SERVICES = ['Orders', 'Seats'] as const;
