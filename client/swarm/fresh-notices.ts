import { putBounded } from '../../protocol/bounded.js';
import type { FreshSegment } from '../../protocol/peer.js';
import type { PeerLink } from '../transport/peer-link.js';

/** Segment ids peers told us of, kept to tell whether a notice is news. */
const HEARD_KEPT = 256;

export interface FreshDeps {
  readonly links: () => Iterable<PeerLink>;
  /** The newest sequence number this page's playlist lists (-1 before the first). */
  readonly newestSeq: () => number;
  readonly vod: () => boolean;
  /** This page knows of `id` already: listed, stored or being fetched. */
  readonly known: (id: string) => boolean;
  /** This page fetches `id` from the origin for the swarm. */
  readonly isOwner: (id: string) => boolean;
  /** Read this swarm's manifest again now. */
  readonly refreshManifest?: () => void;
}

/**
 * `fresh` notices: a page that sees new segments in its playlist before any peer announced them
 * tells its peers, and a page that fetches the next segment for the swarm reads its manifest at
 * once instead of at its own playlist refresh, up to a segment duration later.
 */
export class FreshNotices {
  private readonly heard = new Map<string, number>();
  /** The newest sequence number a notice made us read the manifest for. */
  private refreshedSeq = -1;

  constructor(private readonly d: FreshDeps) {}

  /** Our playlist listed these new segments: tell peers of those nobody told us of. */
  tell(fresh: readonly { readonly id: string; readonly seq: number }[]): void {
    const links = [...this.d.links()];
    const news: FreshSegment[] = [];
    for (const s of fresh) {
      if (this.heard.has(s.id) || links.some((l) => l.remoteHas.has(s.id))) continue;
      news.push({ id: s.id, seq: s.seq });
    }
    if (news.length === 0) return;
    for (const l of links) if (l.isReady) l.tellFresh(news);
  }

  /**
   * A peer's playlist lists segments ours does not yet. Only the next sequence numbers count,
   * once each, so a lying peer costs at most a manifest read or two per segment.
   */
  heardOf(segments: readonly FreshSegment[]): void {
    const newest = this.d.newestSeq();
    for (const s of segments) {
      if (this.d.known(s.id)) continue;
      putBounded(this.heard, s.id, s.seq, HEARD_KEPT);
      if (this.d.vod() || newest < 0 || s.seq <= newest || s.seq > newest + 2 || s.seq <= this.refreshedSeq) continue;
      if (!this.d.isOwner(s.id)) continue;
      this.refreshedSeq = s.seq;
      this.d.refreshManifest?.();
    }
  }
}
