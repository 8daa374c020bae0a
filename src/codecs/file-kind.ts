/** What a file that is not a capture is, from its first bytes: compressed (and the command that unpacks it), text, other. */

/** bytes of a text file looked at to quote its first line */
const TEXT_SNIFF_BYTES = 64;

/** Compressed files by their magic bytes, with the command that decompresses them. */
const COMPRESSIONS: { what: string; magic: number[]; command: string }[] = [
  { what: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], command: 'unzstd' },
  { what: 'gzip', magic: [0x1f, 0x8b], command: 'gunzip' },
  { what: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], command: 'xz -d' },
  { what: 'bzip2', magic: [0x42, 0x5a, 0x68], command: 'bzip2 -d' },
];

export function compressionOf(head: Buffer): { what: string; command: string } | undefined {
  return COMPRESSIONS.find((c) => head.length >= c.magic.length && c.magic.every((b, i) => head[i] === b));
}

/** Say what a file that is not a capture looks like (from its first bytes). */
export function describeBytes(buf: Buffer): string {
  if (buf.length === 0) return 'the file is empty';
  const hex = [...buf.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const m = buf.length >= 4 ? buf.readUInt32BE(0) : 0;
  const packed = compressionOf(buf);
  if (packed) return `it is a ${packed.what} file: ${packed.command} it first; starts with ${hex}`;
  const kinds: [boolean, string][] = [
    [buf.subarray(0, 4).toString('latin1') === 'PK\u0003\u0004', 'a zip archive'],
    [buf.subarray(0, 4).toString('latin1') === '\u007fELF', 'an ELF executable'],
    [m === 0xa1b2cd34 || m === 0x34cdb2a1, 'a modified (Kuznetzov) pcap: convert it with editcap -F pcap'],
  ];
  for (const [hit, what] of kinds) if (hit) return `it is ${what}; starts with ${hex}`;
  const head = buf.subarray(0, Math.min(buf.length, TEXT_SNIFF_BYTES));
  const printable = [...head].every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) {
    const text = head.toString('latin1').split('\n')[0]!.slice(0, 24);
    return `it is text, starts with ${JSON.stringify(text)}`;
  }
  return `starts with ${hex}`;
}
