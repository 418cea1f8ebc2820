/** @layer8/protocol: wire protocol v1 (docs/protocol.md). Pure: no I/O. */

export { type AnswerInit, encodeAnswer, payloadOffset } from './answer.ts';
export {
  Action,
  ContentType,
  DEFAULT_HOPS,
  DEFAULT_MAX_FRAME,
  FIXED_HEADER_SIZE,
  Flag,
  Kind,
  MAX_SERVICE_BYTES,
  MIN_MAX_FRAME,
  Mode,
  Offset,
  PROTOCOL_VERSION,
  Priority,
  TxState,
} from './constants.ts';
export { type ControlBody, controlBody, encodeControl } from './control.ts';
export { type DataInit, dataFrameSize, encodeData, writeData } from './data-frame.ts';
export {
  BACKOFF,
  type Backoff,
  DEFAULT_HANDSHAKE_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUED_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STATS_MS,
  jittered,
  nextDelay,
} from './defaults.ts';
export { ERROR_CODES, type ErrorCode, isErrorCode } from './error-codes.ts';
export {
  BackpressureError,
  ConnectionError,
  errorClassOf,
  fromWire,
  HandlerError,
  L8Error,
  type L8ErrorOptions,
  l8error,
  ModelError,
  ProtocolError,
  RoutingError,
  SecurityError,
  ServiceError,
  StorageError,
  TimeoutError,
  toL8Error,
  type WireError,
} from './errors.ts';
export { FrameDecoder, type FrameDecoderOptions } from './frame-decoder.ts';
export {
  destinationKey,
  frameServiceKey,
  hasNoDestination,
  idKeyAt,
  nodeKey,
  ServiceKeyReader,
  serviceKey,
  sourceKey,
} from './header-view.ts';
export { encodeMessage, type Message, type MessageInit, type TxBlock } from './message.ts';
export { checkFixedHeader, decodeMessage } from './message-decode.ts';
export {
  assertNodeId,
  isNodeId,
  type NodeId,
  newNodeId,
  nodeIdFromBytes,
  nodeIdToBytes,
  readNodeId,
  writeNodeId,
  ZERO_NODE_ID,
} from './node-id.ts';
export { formatTraceparent, parseTraceparent, TRACEPARENT_LENGTH, type TraceParent } from './traceparent.ts';
