export * from "./bytes.js";
export * from "./checksum.js";
export * from "./header.js";
export * from "./chunk-frame.js";
export * from "./commit.js";
