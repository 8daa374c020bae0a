/**
 * A Heartbeat message: an ordered list of typed fields, as both wire encodings carry it.
 * Field types follow Heartbeat's FT_* numbering.
 */
export const FT_STRING = 0;
export const FT_BINARY = 1;
export const FT_STRUCT = 2;
export const FT_LIST = 3;
export const FT_COMPRESS = 4;
export const FT_UNCOMPRESS = 5;
export type FieldType = 0 | 1 | 2 | 3 | 4 | 5;

export type HbField =
  | { name: string; type: typeof FT_STRING; value: string }
  | { name: string; type: typeof FT_BINARY; value: Buffer }
  | { name: string; type: typeof FT_STRUCT; value: HbMessage }
  | { name: string; type: typeof FT_LIST; value: string[] };

export interface HbMessage {
  fields: HbField[];
}

/** The string value of the first field with that name, or undefined. */
export function getField(msg: HbMessage, name: string): string | undefined {
  const f = msg.fields.find((x) => x.name === name);
  return f && f.type === FT_STRING ? f.value : undefined;
}

export function getBinary(msg: HbMessage, name: string): Buffer | undefined {
  const f = msg.fields.find((x) => x.name === name);
  return f && f.type === FT_BINARY ? f.value : undefined;
}

/** Build a message from [name, value] pairs in order; Buffers become binary fields. */
export function buildMessage(pairs: Array<[string, string | Buffer]>): HbMessage {
  return {
    fields: pairs.map(([name, value]) =>
      Buffer.isBuffer(value) ? { name, type: FT_BINARY, value } : { name, type: FT_STRING, value },
    ),
  };
}
