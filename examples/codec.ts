/**
 * Encode a Lennard-Jones frame, an embedding and a plain value with vlstore's
 * codecs, then decode them and print a few fields.
 *
 *   npx tsx examples/codec.ts
 */
import { atomicFrameCodec, bytesCodec, embeddingCodec, valueCodec } from "../src/codecs/index.js";
import { LennardJonesFluid } from "../src/demo/lennard-jones.js";

// A small simulated system: constant per-atom data plus frames.
const fluid = new LennardJonesFluid({ atoms: 1500, seed: 42, equilibrationSteps: 20 });
const frame = fluid.nextFrame();

// encode() accepts the plain fields (typed or plain arrays) and validates them.
const frameBytes = atomicFrameCodec.encode({
  name: "argon-1500",
  atomTypes: fluid.atomTypes,
  masses: fluid.masses,
  positions: frame.positions,
  forces: frame.forces,
  box: fluid.box,
  step: frame.step,
  time: frame.time,
});

// decode() validates the record and returns typed-array views over its bytes.
const decoded = atomicFrameCodec.decode(frameBytes);
console.log(`frame "${decoded.name}": ${decoded.nSites} sites, step ${decoded.step}, time ${decoded.time.toFixed(3)}`);
console.log(
  `  record ${frameBytes.length} bytes; positions is a view over it: ${decoded.positions.buffer === frameBytes.buffer}`,
);
console.log(`  atom 0 at (${[...decoded.positions.subarray(0, 3)].map((x) => x.toFixed(3)).join(", ")}) Å`);
console.log(`  force on atom 0: (${[...decoded.forces.subarray(0, 3)].map((x) => x.toFixed(3)).join(", ")}) kJ/mol/Å`);
console.log(
  `  box diagonal: ${decoded.box ? [decoded.box[0], decoded.box[4], decoded.box[8]].map((x) => x!.toFixed(2)).join(" x ") : "none"} Å`,
);

// An embedding: u64 key (bigint), group 0..255, float32 weights.
const weights = Float32Array.from({ length: 8 }, (_, i) => Math.cos(i));
const embedding = embeddingCodec.decode(embeddingCodec.encode({ key: 2n ** 63n + 5n, group: 3, weights }));
console.log(
  `embedding key ${embedding.key} group ${embedding.group} weights[0..3] ${[...embedding.weights.subarray(0, 3)].map((x) => x.toFixed(3)).join(" ")}`,
);

// Plain values (MessagePack) and raw bytes.
const meta = valueCodec.decode(valueCodec.encode({ source: "lj", steps: [frame.step], checksum: 0xdeadbeefn }));
console.log("value:", meta);
const raw = bytesCodec.decode(bytesCodec.encode(new TextEncoder().encode("hello, vlstore")));
console.log(`bytes: ${raw.length} bytes -> "${new TextDecoder().decode(raw)}"`);

// Invalid input never reaches storage: a typed CodecError says what is wrong.
try {
  embeddingCodec.encode({ key: 1n, group: 300, weights });
} catch (e) {
  console.log(`rejected: ${(e as Error).message}`);
}
