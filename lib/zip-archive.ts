import { deflateRawSync } from 'zlib';

/** One file of a zip archive, compressed once and reusable in any number of archives. */
export interface ZipEntry {
  readonly name: string;
  readonly crc32: number;
  readonly size: number;
  readonly compressed: Buffer;
}

const LOCAL_FILE_HEADER = 0x04034b50;
const CENTRAL_DIRECTORY_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION_NEEDED = 20;
const MADE_BY_UNIX = (3 << 8) | VERSION_NEEDED;
const DEFLATE = 8;
/** 2000-01-01 00:00:00 in MS-DOS date/time fields: every archive of the same files is the same bytes. */
const FIXED_DOS_TIME = 0;
const FIXED_DOS_DATE = ((2000 - 1980) << 9) | (1 << 5) | 1;
/** A regular file, rw-r--r--, in the high half of the external attributes (Unix). */
const REGULAR_FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;
const MAX_ZIP32 = 0xffffffff;

const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let value = byte;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  return value >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (let index = 0; index < data.length; index++) crc = CRC_TABLE[(crc ^ data[index]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Compresses `content` (deflate, zlib's default level) as the file `name` of an archive. */
export function zipEntry(name: string, content: Buffer): ZipEntry {
  if (name.length === 0 || name.includes('\\') || name.startsWith('/')) throw new Error(`name: "${name}" must be a relative path with forward slashes`);
  if (content.length >= MAX_ZIP32) throw new Error(`${name}: files of 4 GiB or more need zip64, which this writer does not write`);
  return { name, crc32: crc32(content), size: content.length, compressed: deflateRawSync(content) };
}

/** What a local file header and a central directory record share: from "version needed" to the extra field's length. */
function writeEntryFields(buffer: Buffer, start: number, entry: ZipEntry, nameLength: number): number {
  let at = buffer.writeUInt16LE(VERSION_NEEDED, start);
  at = buffer.writeUInt16LE(0, at); // flags
  at = buffer.writeUInt16LE(DEFLATE, at);
  at = buffer.writeUInt16LE(FIXED_DOS_TIME, at);
  at = buffer.writeUInt16LE(FIXED_DOS_DATE, at);
  at = buffer.writeUInt32LE(entry.crc32, at);
  at = buffer.writeUInt32LE(entry.compressed.length, at);
  at = buffer.writeUInt32LE(entry.size, at);
  at = buffer.writeUInt16LE(nameLength, at);
  return buffer.writeUInt16LE(0, at); // extra field length
}

function localFileHeader(entry: ZipEntry, nameLength: number): Buffer {
  const buffer = Buffer.alloc(30);
  writeEntryFields(buffer, buffer.writeUInt32LE(LOCAL_FILE_HEADER, 0), entry, nameLength);
  return buffer;
}

function centralDirectoryHeader(entry: ZipEntry, nameLength: number, localHeaderOffset: number): Buffer {
  const buffer = Buffer.alloc(46);
  let at = buffer.writeUInt16LE(MADE_BY_UNIX, buffer.writeUInt32LE(CENTRAL_DIRECTORY_HEADER, 0));
  at = writeEntryFields(buffer, at, entry, nameLength);
  at = buffer.writeUInt16LE(0, at); // comment length
  at = buffer.writeUInt16LE(0, at); // disk number
  at = buffer.writeUInt16LE(0, at); // internal attributes
  at = buffer.writeUInt32LE(REGULAR_FILE_ATTRIBUTES, at);
  buffer.writeUInt32LE(localHeaderOffset, at);
  return buffer;
}

/** A zip archive of `entries`, in the order given, with fixed file times and modes. */
export function zipArchive(entries: readonly ZipEntry[]): Buffer {
  const names = new Set<string>();
  const parts: Buffer[] = [];
  const centralDirectory: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    if (names.has(entry.name)) throw new Error(`entries: "${entry.name}" appears twice`);
    names.add(entry.name);
    const name = Buffer.from(entry.name, 'utf8');
    const local = [localFileHeader(entry, name.length), name, entry.compressed];
    centralDirectory.push(centralDirectoryHeader(entry, name.length, offset), name);
    parts.push(...local);
    offset += local.reduce((sum, part) => sum + part.length, 0);
  }
  const directorySize = centralDirectory.reduce((sum, part) => sum + part.length, 0);
  if (offset + directorySize >= MAX_ZIP32 || entries.length > 0xffff) throw new Error('entries: the archive would need zip64, which this writer does not write');
  const end = Buffer.alloc(22);
  let at = end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  at = end.writeUInt16LE(0, at); // this disk
  at = end.writeUInt16LE(0, at); // disk of the central directory
  at = end.writeUInt16LE(entries.length, at);
  at = end.writeUInt16LE(entries.length, at);
  at = end.writeUInt32LE(directorySize, at);
  at = end.writeUInt32LE(offset, at);
  end.writeUInt16LE(0, at); // comment length
  return Buffer.concat([...parts, ...centralDirectory, end]);
}
