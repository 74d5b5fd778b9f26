import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InputError } from "../../src/cli/errors.js";
import {
  asFloat32,
  asInt32,
  encodeNpy,
  encodeNpyHeader,
  NpyWriter,
  parseNpy,
  readNpy,
  writeNpy,
} from "../../src/cli/npy.js";
import { tempDir } from "../support/tmp.js";
import { PYTHON, hasNumpy } from "./helpers.js";

function header(dict: string, major = 1): Uint8Array {
  const lengthBytes = major === 1 ? 2 : 4;
  const total = Math.ceil((8 + lengthBytes + dict.length + 1) / 64) * 64;
  const text = `${dict.padEnd(total - 8 - lengthBytes - 1)}\n`;
  const out = new Uint8Array(total);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, text.length, true);
  else dv.setUint32(8, text.length, true);
  for (let i = 0; i < text.length; i++) out[8 + lengthBytes + i] = text.charCodeAt(i);
  return out;
}

function withData(h: Uint8Array, data: ArrayBufferView): Uint8Array {
  const out = new Uint8Array(h.length + data.byteLength);
  out.set(h);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), h.length);
  return out;
}

function rejects(bytes: Uint8Array, pattern: RegExp): void {
  assert.throws(
    () => parseNpy(bytes, "x.npy"),
    (e: unknown) =>
      e instanceof InputError && e.file === "x.npy" && pattern.test(e.message) && !e.message.includes("\n"),
  );
}

describe("npy", () => {
  test("round-trips every supported dtype and shape", () => {
    const cases = [
      { dtype: "float32", shape: [2, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 7) },
      { dtype: "float64", shape: [4], data: Float64Array.from([0.1, -2, Infinity, NaN]) },
      { dtype: "int32", shape: [2, 2], data: Int32Array.from([1, -2, 2147483647, -2147483648]) },
      { dtype: "int64", shape: [3], data: BigInt64Array.from([1n, -(1n << 62n), 0n]) },
      { dtype: "float32", shape: [], data: Float32Array.from([1.5]) },
      { dtype: "float32", shape: [0, 3], data: new Float32Array(0) },
    ] as const;
    for (const c of cases) {
      const bytes = encodeNpy({ dtype: c.dtype, shape: [...c.shape], data: c.data });
      const headerEnd = bytes.length - c.data.byteLength;
      assert.equal(headerEnd % 64, 0, "data starts at a multiple of 64");
      const back = parseNpy(bytes, "x.npy");
      assert.equal(back.dtype, c.dtype);
      assert.deepEqual(back.shape, [...c.shape]);
      assert.deepEqual(Buffer.from(back.data.buffer), Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength));
      assert.equal(back.data.byteOffset % 8, 0);
    }
  });

  test("reads version 2.0 and 3.0 headers, '=' byte order, and a header without trailing comma", () => {
    const data = Float32Array.from([1, 2, 3]);
    for (const [dict, major] of [
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 2],
      ["{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 3],
      ['{"shape": (3,), "fortran_order": False, "descr": "=f4"}', 1],
    ] as const) {
      const a = parseNpy(withData(header(dict, major), data), "x.npy");
      assert.deepEqual([...a.data], [1, 2, 3]);
    }
  });

  test("writes a 2.0 header when the shape does not fit 1.0", () => {
    const shape = Array.from({ length: 25_000 }, () => 1);
    const bytes = encodeNpy({ dtype: "float32", shape, data: Float32Array.from([4]) });
    assert.equal(bytes[6], 2);
    assert.deepEqual(parseNpy(bytes, "x.npy").shape, shape);
  });

  test("rejects big-endian, Fortran order, other dtypes, and damaged files with one clear line", () => {
    const z = new Uint8Array(24);
    rejects(withData(header("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }"), z), /big-endian.*<f4/);
    rejects(withData(header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }"), z), /Fortran order/);
    rejects(
      withData(header("{'descr': '|u1', 'fortran_order': False, 'shape': (24,), }"), z),
      /dtype '\|u1' is not supported/,
    );
    rejects(withData(header("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }"), z), /dtype '<c8'/);
    rejects(
      withData(header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }"), z),
      /no dtype string/,
    );
    rejects(
      withData(header("{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }"), z),
      /truncated \.npy data.*needs 28 bytes.*found 24/,
    );
    rejects(withData(header("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"), z), /4 unexpected bytes/);
    rejects(withData(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), z), /no valid 'shape'/);
    rejects(withData(header("{'descr': '<f4' 'fortran_order': False}"), z), /malformed \.npy header/);
    rejects(new TextEncoder().encode("PK\x03\x04 not npy at all"), /not a NumPy \.npy file/);
    rejects(
      header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }").subarray(0, 40),
      /truncated \.npy header/,
    );
    const v = header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
    v[6] = 9;
    rejects(v, /unsupported \.npy format version 9\.0/);
  });

  test("asFloat32 narrows float64 and says so; asInt32 checks int64 range", () => {
    const f = asFloat32({ dtype: "float64", shape: [2], data: Float64Array.from([0.1, 2]) }, "m.npy");
    assert.equal(f.converted, true);
    assert.deepEqual([...f.data], [Math.fround(0.1), 2]);
    assert.throws(
      () => asFloat32({ dtype: "int32", shape: [1], data: Int32Array.from([1]) }, "m.npy"),
      /expected float32 or float64/,
    );
    assert.deepEqual(
      [...asInt32({ dtype: "int64", shape: [2], data: BigInt64Array.from([5n, -1n]) }, "t.npy")],
      [5, -1],
    );
    assert.throws(
      () => asInt32({ dtype: "int64", shape: [1], data: BigInt64Array.from([1n << 40n]) }, "t.npy"),
      /does not fit int32/,
    );
  });

  test("NpyWriter streams an array and checks its element count", async () => {
    const dir = tempDir();
    const path = join(dir, "s.npy");
    const w = await NpyWriter.create(path, "float32", [3, 2]);
    await w.append(Float32Array.from([1, 2]));
    await w.append(Float32Array.from([3, 4, 5, 6]));
    await w.close();
    const a = await readNpy(path);
    assert.deepEqual(a.shape, [3, 2]);
    assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 6]);
    const h = encodeNpyHeader("float32", [3, 2]);
    assert.equal(h.length % 64, 0);
    assert.deepEqual(readFileSync(path).subarray(0, h.length), Buffer.from(h));
    const short = await NpyWriter.create(join(dir, "t.npy"), "int32", [4]);
    await short.append(Int32Array.from([1]));
    await assert.rejects(short.close(), /wrote 1 of 4 elements/);
  });

  describe("interoperates with numpy", {
    skip:
      hasNumpy || process.env.CI
        ? false
        : "no numpy in /usr/bin/python3 (Debian package python3-numpy; CI installs it and never skips)",
  }, () => {
    test("reads what numpy.save writes, including float64, int64 and 2.0 headers", async () => {
      const dir = tempDir();
      execFileSync(PYTHON, [
        "-c",
        `import numpy as np
np.save("${dir}/a.npy", np.arange(24, dtype=np.float32).reshape(2, 4, 3) / 3)
np.save("${dir}/b.npy", np.linspace(0, 1, 5))
np.save("${dir}/c.npy", np.array([3, -4, 1 << 40], dtype=np.int64))
np.lib.format.write_array(open("${dir}/d.npy", "wb"), np.arange(6, dtype=np.int32), version=(2, 0))
`,
      ]);
      const a = await readNpy(join(dir, "a.npy"));
      assert.equal(a.dtype, "float32");
      assert.deepEqual(a.shape, [2, 4, 3]);
      assert.deepEqual(
        [...a.data],
        Array.from({ length: 24 }, (_, i) => Math.fround(Math.fround(i) / 3)),
      );
      const b = await readNpy(join(dir, "b.npy"));
      assert.equal(b.dtype, "float64");
      assert.deepEqual([...b.data], [0, 0.25, 0.5, 0.75, 1]);
      const c = await readNpy(join(dir, "c.npy"));
      assert.deepEqual([...c.data], [3n, -4n, 1n << 40n]);
      const d = await readNpy(join(dir, "d.npy"));
      assert.deepEqual([...d.data], [0, 1, 2, 3, 4, 5]);
    });

    test("numpy reads what writeNpy writes, bit for bit", async () => {
      const dir = tempDir();
      const data = Float32Array.from({ length: 30 }, (_, i) => Math.sin(i) * 1e3);
      await writeNpy(join(dir, "p.npy"), { dtype: "float32", shape: [2, 5, 3], data });
      await writeNpy(join(dir, "t.npy"), { dtype: "int32", shape: [5], data: Int32Array.from([0, 1, 2, 1, 0]) });
      writeFileSync(join(dir, "expect.bin"), Buffer.from(data.buffer));
      const out = execFileSync(PYTHON, [
        "-c",
        `import numpy as np
p = np.load("${dir}/p.npy"); t = np.load("${dir}/t.npy")
e = np.fromfile("${dir}/expect.bin", dtype="<f4").reshape(2, 5, 3)
print(p.dtype, p.shape, p.flags["C_CONTIGUOUS"], bool((p.view("<u4") == e.view("<u4")).all()), t.dtype, t.tolist())
`,
      ])
        .toString()
        .trim();
      assert.equal(out, "float32 (2, 5, 3) True True int32 [0, 1, 2, 1, 0]");
    });
  });
});
