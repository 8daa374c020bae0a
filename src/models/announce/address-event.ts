/**
 * One line of `ip -o -ts monitor address` (iproute2 6.1 has no JSON for `monitor`: `-json` prints text):
 *   [2026-12-04T18:23:09.626513] 3: veth0    inet 10.9.9.1/24 scope global veth0\       valid_lft …
 *   [2026-12-04T18:23:09.648691] Deleted 3: veth0    inet 10.9.9.1/24 …
 * The timestamp is `ip`'s local time when it read the netlink message.
 */
export interface AddressEvent {
  kind: 'added' | 'deleted';
  iface: string;
  family: 'inet' | 'inet6';
  ip: string;
  prefixLen: number;
  /** epoch ms `ip` stamped on the event (local time, µs), when the line has one */
  stampMs?: number;
}

const LINE = /^(?:\[([0-9T:.-]+)\]\s*)?(Deleted\s+)?\d+:\s+([^\s@]+)(?:@\S+)?\s+(inet6?)\s+([0-9a-fA-F.:]+)\/(\d+)/;

export function parseAddressEvent(line: string): AddressEvent | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const e: AddressEvent = { kind: m[2] ? 'deleted' : 'added', iface: m[3]!, family: m[4] as 'inet' | 'inet6', ip: m[5]!, prefixLen: Number(m[6]) };
  const stamp = m[1] ? parseLocalStamp(m[1]) : undefined;
  if (stamp !== undefined) e.stampMs = stamp;
  return e;
}

/** `2026-12-04T18:23:09.626513` in local time → epoch ms with the microseconds kept. */
export function parseLocalStamp(text: string): number | undefined {
  const [whole, frac = ''] = text.split('.');
  const ms = new Date(whole!).getTime();
  if (Number.isNaN(ms) || !/^\d*$/.test(frac)) return undefined;
  return frac ? ms + Number(`0.${frac}`) * 1000 : ms;
}
