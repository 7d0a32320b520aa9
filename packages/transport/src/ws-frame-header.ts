/**
 * The header of one unfragmented client frame (RFC 6455 §5.2). Client frames must be masked;
 * the mask here is all zeros, so the payload goes out as it is, without a masking pass. The
 * mask protects browsers' proxies from crafted bytes, and peers are not browsers.
 */
export function clientFrameHeader(opcode: number, payloadBytes: number): Buffer {
  const lengthBytes = payloadBytes < 126 ? 0 : payloadBytes < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes + 4);
  header[0] = 0x80 | opcode;
  if (lengthBytes === 0) header[1] = 0x80 | payloadBytes;
  else if (lengthBytes === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(payloadBytes, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeUInt32BE(Math.floor(payloadBytes / 2 ** 32), 2);
    header.writeUInt32BE(payloadBytes >>> 0, 6);
  }
  return header;
}
