/** For tests of sibling packages and the benchmarks: the demo models. Not part of the public API. */

export { type CompiledCodec, compileCodec, whyNotCompiled } from './compiled-codec.ts';
export { demoCustomer, demoWide50 } from './demo-data.ts';
export {
  type Customer,
  CustomerSchema,
  file_layer8_demo_v1_bench,
  PhoneSchema,
  PostalAddressSchema,
} from './gen/layer8/demo/v1/bench_pb.ts';
export {
  type AllTypes,
  AllTypesSchema,
  file_layer8_demo_v1_codec,
  Kind,
  WithLongStringSchema,
  WithWrapperSchema,
} from './gen/layer8/demo/v1/codec_pb.ts';
export {
  type Address,
  AddressSchema,
  file_layer8_demo_v1_demo,
  type Order,
  type OrderLine,
  OrderLineSchema,
  OrderSchema,
  type Seat,
  SeatSchema,
  Status,
  type Wide50,
  Wide50Schema,
} from './gen/layer8/demo/v1/demo_pb.ts';
