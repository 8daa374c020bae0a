/**
 * Incremental reader of a classic pcap byte stream (what `tcpdump -U -w -` writes to a pipe): feed chunks,
 * get records as soon as they are complete. Whole files are read with src/codecs/pcap.ts instead.
 */
export interface StreamRecord {
  tsMs: number;
  data: Buffer;
  linktype: number;
}

export class PcapStreamReader {
  private buf: Buffer = Buffer.alloc(0);
  private le = true;
  private nano = false;
  linktype = -1;
  error: string | undefined;

  /** Append bytes; returns the records completed by them. */
  push(chunk: Buffer): StreamRecord[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: StreamRecord[] = [];
    if (this.linktype < 0) {
      if (this.buf.length < 24) return out;
      const magicLe = this.buf.readUInt32LE(0);
      if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) this.le = true;
      else if (this.buf.readUInt32BE(0) === 0xa1b2c3d4 || this.buf.readUInt32BE(0) === 0xa1b23c4d) this.le = false;
      else {
        this.error = `not a classic pcap stream (magic 0x${magicLe.toString(16)})`;
        this.buf = Buffer.alloc(0);
        return out;
      }
      this.nano = (this.le ? magicLe : this.buf.readUInt32BE(0)) === 0xa1b23c4d;
      this.linktype = this.le ? this.buf.readUInt32LE(20) : this.buf.readUInt32BE(20);
      this.buf = this.buf.subarray(24);
    }
    let off = 0;
    while (this.buf.length - off >= 16) {
      const u32 = (o: number) => (this.le ? this.buf.readUInt32LE(off + o) : this.buf.readUInt32BE(off + o));
      const sec = u32(0);
      const frac = u32(4);
      const incl = u32(8);
      if (this.buf.length - off - 16 < incl) break;
      const tsMs = sec * 1000 + (this.nano ? frac / 1e6 : frac / 1e3);
      out.push({ tsMs, data: Buffer.from(this.buf.subarray(off + 16, off + 16 + incl)), linktype: this.linktype });
      off += 16 + incl;
    }
    this.buf = this.buf.subarray(off);
    return out;
  }
}
