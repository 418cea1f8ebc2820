/**
 * @layer8/link: the transport every connection runs on, whatever secures it: the framed, batched link
 * with its back-pressure, link addresses, and the handshake's data type (docs/architecture.md, docs/protocol.md §2, §6.2).
 */
export { FramedLink, type FramedLinkOptions, type LinkStats } from './framed-link.ts';
export { formatAddress, type LinkAddress, type LinkTransport } from './link-address.ts';
export { type InstanceState, type NodeHello, parseHello } from './node-hello.ts';
