const UNSAFE = new Set(Array.from('\r\n #%&+:;<=>?@[\\]^`{|}"', (c) => c.charCodeAt(0)));
const HEX = '0123456789ABCDEF';

function isUpperHexDigit(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46));
}

function needsEncoding(code: number): boolean {
  return code < 0x20 || code > 0x7e || UNSAFE.has(code);
}

/**
 * URL-encodes a header value exactly like switch_url_encode: only the characters FreeSWITCH deems
 * unsafe (and bytes outside printable ASCII) become `%XX` with uppercase hex, and an existing `%XX`
 * escape (uppercase hex) is left alone rather than double-encoded.
 */
export function fsUrlEncode(value: string): string {
  let plain = true;
  for (let i = 0; i < value.length; i++) {
    if (needsEncoding(value.charCodeAt(i))) {
      plain = false;
      break;
    }
  }
  if (plain) return value;

  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    const keepsExistingEscape =
      byte === 0x25 && i + 2 < bytes.length && isUpperHexDigit(bytes[i + 1]) && isUpperHexDigit(bytes[i + 2]);
    if (!keepsExistingEscape && needsEncoding(byte)) {
      out += '%' + HEX[byte >> 4] + HEX[byte & 0x0f];
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out;
}
