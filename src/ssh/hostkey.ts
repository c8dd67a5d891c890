import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The manager's host key, pinned by the user: known_hosts key blobs, or OpenSSH SHA256 fingerprints. */
export interface HostKeyPin {
  keys: Buffer[];
  fingerprints: string[];
  /** Key types of the pinned keys, to ask the server for exactly those (empty: any). */
  keyTypes: string[];
}

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
]);

/** OpenSSH's fingerprint of a raw public key blob: "SHA256:" + unpadded base64 of its sha256. */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** Host names match as OpenSSH matches them: in lower case. */
function hostMatches(pattern: string, host: string, port: number): boolean {
  host = host.toLowerCase();
  pattern = pattern.startsWith('|1|') ? pattern : pattern.toLowerCase();
  const target = port === 22 ? host : `[${host}]:${port}`;
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(target).digest('base64');
    return digest === hash;
  }
  return pattern.split(',').some((p) => p === target || (port === 22 && p === `[${host}]:22`));
}

function keyBlobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len > 64 || blob.length < 4 + len) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/**
 * Parses the ssh-known-hosts input: known_hosts lines (plain or hashed host names; a bare
 * "TYPE BASE64" line pins that key for any host) and/or "SHA256:..." fingerprints, bare or after
 * their key type ("ecdsa-sha2-nistp256 SHA256:..."), one per line.
 * Throws a message suitable for the user on anything malformed or when no line is for this host.
 */
export function parseHostKeyPin(text: string, host: string, port: number): HostKeyPin {
  const pin: HostKeyPin = { keys: [], fingerprints: [], keyTypes: [] };
  const typedFingerprints: string[] = [];
  let untypedFingerprint = false;
  let linesForOtherHosts = 0;
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0) throw new Error('is empty');
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}`;
    // A fingerprint, bare or after its key type ("ssh-ed25519 SHA256:..."), which asks for that type.
    const typed = /^(\S+)\s+(SHA256:\S*)$/.exec(line);
    if (line.startsWith('SHA256:') || (typed && KEY_TYPES.has(typed[1]))) {
      const print = typed ? typed[2] : line;
      if (!/^SHA256:[A-Za-z0-9+/]{43}$/.test(print)) {
        throw new Error(
          `${where}: "${print}" is not an OpenSSH SHA256 fingerprint (SHA256: and 43 base64 characters)`,
        );
      }
      pin.fingerprints.push(print);
      if (typed) typedFingerprints.push(typed[1]);
      else untypedFingerprint = true;
      continue;
    }
    if (line.startsWith('@')) {
      throw new Error(
        `${where}: markers like ${line.split(/\s/)[0]} are not supported; give the host's own key`,
      );
    }
    const fields = line.split(/\s+/);
    const [hosts, type, data] = KEY_TYPES.has(fields[0]) ? [undefined, fields[0], fields[1]] : fields;
    if (!type || !KEY_TYPES.has(type) || !data) {
      throw new Error(
        `${where} is not a known_hosts line ("HOST KEYTYPE BASE64", as printed by ssh-keyscan) nor a SHA256: fingerprint`,
      );
    }
    const blob = Buffer.from(data, 'base64');
    if (
      blob.toString('base64').replace(/=+$/, '') !== data.replace(/=+$/, '') ||
      keyBlobType(blob) !== type
    ) {
      throw new Error(`${where}: the ${type} key data is not valid base64 of a ${type} key`);
    }
    if (hosts !== undefined && !hostMatches(hosts, host, port)) {
      linesForOtherHosts++;
      continue;
    }
    pin.keys.push(blob);
    if (!pin.keyTypes.includes(type)) pin.keyTypes.push(type);
  }
  if (pin.keys.length === 0 && pin.fingerprints.length === 0) {
    const name = port === 22 ? host : `[${host}]:${port}`;
    throw new Error(
      `has ${linesForOtherHosts} line(s), none for ${name}; add a line for ${name} (ssh-keyscan -p ${port} ${host})`,
    );
  }
  // A bare fingerprint may be of any key type: the server's default choice is then checked.
  if (untypedFingerprint) pin.keyTypes = [];
  else for (const type of typedFingerprints) if (!pin.keyTypes.includes(type)) pin.keyTypes.push(type);
  return pin;
}

/** True when the raw key the server presented is one of the pinned keys. */
export function hostKeyAllowed(pin: HostKeyPin, key: Buffer): boolean {
  const byKey = pin.keys.some((k) => k.length === key.length && timingSafeEqual(k, key));
  return byKey || pin.fingerprints.includes(fingerprint(key));
}
