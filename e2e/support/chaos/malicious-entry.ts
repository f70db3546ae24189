// Test-only client build for `--malicious`: an ordinary relaycast page whose uploads are
// corrupted, truncated or swapped for another segment. Never shipped; built by e2e/support/chaos/build.ts.
import { Swarm } from '../../../client/swarm/swarm.js';
import type { PeerLink } from '../../../client/transport/peer-link.js';

const honestServe = Swarm.prototype.serve;
let n = 0;
Swarm.prototype.serve = function (this: Swarm, link: PeerLink, id: string) {
  const served = honestServe.call(this, link, id);
  if (typeof served === 'string') return served;
  // A copy still arriving is sent whole at once: its tail is not there yet (zeros), so it is corrupt too.
  const bytes = served instanceof Uint8Array ? served : served.bytes;
  switch (n++ % 3) {
    case 0: {
      // Same size, flipped bytes in the middle: only a hash check can tell.
      const bad = bytes.slice();
      for (let i = Math.floor(bad.length / 2); i < Math.min(bad.length, bad.length / 2 + 4096); i++) bad[i] = (bad[i] ?? 0) ^ 0x5a;
      return bad;
    }
    case 1:
      // Truncated.
      return bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
    default: {
      // Another segment's bytes (or reversed bytes when it holds only one).
      const other = [...(this as unknown as { store: { list(): { id: string; bytes: Uint8Array }[] } }).store.list()].find((s) => s.id !== id);
      return other ? other.bytes : bytes.slice().reverse();
    }
  }
};

import '../../../client/script-tag.js';
