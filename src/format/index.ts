export * from "./bytes.js";
export * from "./checksum.js";
