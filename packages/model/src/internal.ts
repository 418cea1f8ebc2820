/** For tests of sibling packages and the benchmarks: the compiled codec's internals. Not part of the public API. */

export { type CompiledCodec, compileCodec, whyNotCompiled } from './compiled-codec.ts';
export { type CompiledModel, compiledModel, whyNotCompiledModel } from './compiled-model.ts';
export { reflectDiff } from './diff.ts';
