// Test-only client build for `--malicious`: an ordinary relaycast page whose uploads are
// corrupted: pieces with flipped bytes, truncated pieces, reversed pieces, and forged hash lists.
// Never shipped; built by e2e/support/chaos/build.ts.
import { PeerLink } from '../../../client/transport/peer-link.js';

const honestPiece = PeerLink.prototype.sendPiece;
const honestHashes = PeerLink.prototype.sendHashes;
let n = 0;
let lists = 0;

PeerLink.prototype.sendPiece = function (this: PeerLink, reqId: number, total: number, piece: number, bytes: Uint8Array) {
  switch (n++ % 3) {
    case 0: {
      // Same size, flipped bytes in the middle: only a hash check can tell.
      const bad = bytes.slice();
      for (let i = Math.floor(bad.length / 2); i < Math.min(bad.length, bad.length / 2 + 4096); i++) bad[i] = (bad[i] ?? 0) ^ 0x5a;
      return honestPiece.call(this, reqId, total, piece, bad);
    }
    case 1:
      // Truncated: not the piece asked for.
      return honestPiece.call(this, reqId, total, piece, bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))));
    default:
      return honestPiece.call(this, reqId, total, piece, bytes.slice().reverse());
  }
};

PeerLink.prototype.sendHashes = function (this: PeerLink, id: string, list: Uint8Array) {
  // Every other hash list is forged: the same length, other digests.
  if (lists++ % 2 === 0) return honestHashes.call(this, id, list.map((b) => b ^ 0xa5));
  return honestHashes.call(this, id, list);
};

import '../../../client/script-tag.js';
