/**
 * The `.npy` header (numpy.lib.format), shared by the whole-file reader of
 * the CLI (src/cli/npy.ts) and the streaming reader of imports
 * (./npy-stream.ts), which reads rows by byte ranges.
 */
import { InputFormatError } from "../errors.js";

export type NpyDtype = "float32" | "float64" | "int32" | "int64";

/** What the header says. */
export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the first element. */
  dataStart: number;
}

export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
/** 6 magic + 1 major + 1 minor */
export const PREAMBLE = 8;

const DESCR: Record<string, NpyDtype> = {
  "<f4": "float32",
  "<f8": "float64",
  "<i4": "int32",
  "<i8": "int64",
};
export const WIDTH: Record<NpyDtype, number> = { float32: 4, float64: 8, int32: 4, int64: 8 };
const ACCEPTED = "little-endian float32 (<f4), float64 (<f8), int32 (<i4) or int64 (<i8)";

/**
 * Parse the header of `.npy` bytes (at least the preamble and header; the
 * data may be absent when `fileBytes` gives the file's size). `path` is for
 * messages. Throws InputFormatError.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string, fileBytes = bytes.length): NpyHeader {
  const fail = (reason: string): never => {
    throw new InputFormatError(path, reason);
  };
  if (bytes.length < PREAMBLE + 2 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(`not a NumPy .npy file (it does not start with "\\x93NUMPY")`);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0)
    fail(`unsupported .npy format version ${major}.${minor} (reads 1.0, 2.0 and 3.0)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < PREAMBLE + lengthBytes) fail(`truncated .npy header: the file has only ${bytes.length} bytes`);
  const headerLength = major === 1 ? dv.getUint16(PREAMBLE, true) : dv.getUint32(PREAMBLE, true);
  const dataStart = PREAMBLE + lengthBytes + headerLength;
  if (dataStart > bytes.length) {
    fail(
      `truncated .npy header: it declares ${headerLength} header bytes but the file has ${bytes.length} bytes in all`,
    );
  }
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(PREAMBLE + lengthBytes, dataStart),
  );
  let header: Record<string, PyValue>;
  try {
    header = parseHeaderDict(headerText);
  } catch (e) {
    return fail(`malformed .npy header ${JSON.stringify(headerText.trim())}: ${(e as Error).message}`);
  }
  const descr = header.descr;
  const fortran = header.fortran_order;
  const shapeValue = header.shape;
  if (typeof descr !== "string") return fail(`the .npy header has no dtype string ('descr'), found ${show(descr)}`);
  if (typeof fortran !== "boolean") return fail(`the .npy header has no 'fortran_order' flag`);
  if (
    !Array.isArray(shapeValue) ||
    !shapeValue.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    return fail(`the .npy header has no valid 'shape' tuple, found ${show(shapeValue)}`);
  }
  const shape = shapeValue as number[];
  const dtype =
    DESCR[descr === "=f4" || descr === "=f8" || descr === "=i4" || descr === "=i8" ? `<${descr.slice(1)}` : descr];
  if (dtype === undefined) {
    const why = descr.startsWith(">") ? "big-endian data" : `dtype '${descr}'`;
    return fail(`${why} is not supported; vlstore reads ${ACCEPTED} (convert with arr.astype('<f4'))`);
  }
  if (fortran) {
    return fail(`the array is in Fortran order; vlstore reads C-order arrays (save np.ascontiguousarray(arr) instead)`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * WIDTH[dtype];
  if (fileBytes - dataStart < dataBytes) {
    return fail(
      `truncated .npy data: shape (${shape.join(", ")}) of ${dtype} needs ${dataBytes} bytes after the header, found ${fileBytes - dataStart}`,
    );
  }
  if (fileBytes - dataStart > dataBytes) {
    return fail(`${fileBytes - dataStart - dataBytes} unexpected bytes after the ${dataBytes} bytes of array data`);
  }
  return { dtype, shape, dataStart };
}

// ---- the header dict: a tiny parser for the Python literal numpy writes ----

type PyValue = string | number | boolean | null | PyValue[] | { [k: string]: PyValue };

function parseHeaderDict(text: string): Record<string, PyValue> {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    ws();
    if (text[i] !== c) throw new Error(`expected '${c}' at character ${i}`);
    i++;
  };
  const value = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Error("unterminated string");
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === "(" || c === "[") {
      const close = c === "(" ? ")" : "]";
      i++;
      const items: PyValue[] = [];
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          return items;
        }
        items.push(value());
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at character ${i}`);
      }
    }
    if (c === "{") {
      i++;
      const obj: Record<string, PyValue> = {};
      for (;;) {
        ws();
        if (text[i] === "}") {
          i++;
          return obj;
        }
        const k = value();
        if (typeof k !== "string") throw new Error("dict key is not a string");
        expect(":");
        obj[k] = value();
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== "}") throw new Error(`expected ',' or '}' at character ${i}`);
      }
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i));
    if (!m) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 10))} at character ${i}`);
    i += m[0].length;
    if (m[0] === "True") return true;
    if (m[0] === "False") return false;
    if (m[0] === "None") return null;
    return Number(m[0].replace("L", ""));
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing characters at ${i}`);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not a dict");
  return v;
}

function show(v: PyValue | undefined): string {
  return v === undefined ? "nothing" : JSON.stringify(v);
}
