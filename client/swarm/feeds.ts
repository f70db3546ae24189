import { homeStripe, MAX_FEED_DEPTH, STRIPES } from '../../protocol/stripes.js';
import type { Clock } from '../core/clock.js';
import type { PeerLink, TreeAdvert } from '../transport/peer-link.js';

/** An unanswered `sub` is given up after this long, and the peer not asked again for a while. */
const SUB_TIMEOUT_MS = 3000;
/** A peer that refused (or dropped) this page for a stripe is not asked again for that stripe this long. */
const DENIED_MS = 4000;
/** A parent that lost its own feed gets this long to find another before this page looks elsewhere. */
const PARENT_GRACE_MS = 2000;

export interface FeedsEnv {
  readonly clock: Clock;
  readonly selfId: () => string | undefined;
  /** The swarm's links. */
  readonly links: () => Iterable<PeerLink>;
  readonly uploadAllowed: () => boolean;
  /** Stripe trees are used in this swarm now (live, with a known segment size). */
  readonly enabled: () => boolean;
  /** The stripes this page heads (fetches from the origin itself), as a bitmask. */
  readonly headStripes: () => number;
  /** `link` is one of this page's children in stripe `s` (it must not become this page's parent there). */
  readonly isChild: (link: PeerLink, s: number) => boolean;
  /** This page feeds others in stripe `s` (a parent must be above its children). */
  readonly hasChildren: (s: number) => boolean;
  /** A link that times out or went silent. */
  readonly unfit: (link: PeerLink) => boolean;
  readonly random?: () => number;
}

interface Slot {
  parent: PeerLink;
  granted: boolean;
  askedAtMs: number;
  /** Since when the parent has said it has no feed itself. */
  lostSinceMs: number | undefined;
}

/**
 * The child's side of the stripe trees (protocol/stripes.ts): for each stripe this page does not
 * head, one parent that pushes it every piece of the stripe as soon as it has it. A parent is a
 * peer that relays the stripe (its home stripe, or one it heads) and has a feed itself, the
 * shallowest first; a page with children of its own takes only a parent above its last depth,
 * so no tree closes into a loop (and one that did would see its depths grow past
 * MAX_FEED_DEPTH and break up). Also this page's own place in the trees, told to every peer.
 */
export class Feeds {
  private readonly slots: (Slot | undefined)[] = Array.from({ length: STRIPES }, () => undefined);
  /** Per stripe, the depth this page last had where it relays (kept while it looks for a new parent). */
  private readonly lastDepth: number[] = Array.from({ length: STRIPES }, () => -1);
  private readonly denied = new Map<PeerLink, number[]>();
  private told: string | undefined;

  constructor(private readonly env: FeedsEnv) {}

  /** This page relays stripe `s` onward: it uploads, and `s` is its home stripe or one it heads. */
  relays(s: number): boolean {
    const self = this.env.selfId();
    if (self === undefined || !this.env.uploadAllowed()) return false;
    return homeStripe(self) === s || (this.env.headStripes() & (1 << s)) !== 0;
  }

  /** Hops below the heads where this page can feed others in stripe `s` (it relays `s` and has a feed of it; a head is at 0), or -1. */
  depth(s: number): number {
    if (!this.env.enabled() || !this.relays(s)) return -1;
    if ((this.env.headStripes() & (1 << s)) !== 0) return 0;
    const slot = this.slots[s];
    const d = slot?.granted && slot.parent.isReady ? (slot.parent.remoteTree?.depth[s] ?? -1) : -1;
    return d >= 0 && d + 1 <= MAX_FEED_DEPTH ? d + 1 : -1;
  }

  /** Stripe `s` reaches this page by pushes: it heads it, or a parent feeds it that has a feed itself. */
  fed(s: number): boolean {
    if ((this.env.headStripes() & (1 << s)) !== 0) return true;
    const slot = this.slots[s];
    return slot !== undefined && slot.granted && slot.parent.isReady && (slot.parent.remoteTree?.depth[s] ?? -1) >= 0;
  }

  /** The parent of stripe `s`, granted or asked. */
  parentOf(s: number): PeerLink | undefined {
    return this.slots[s]?.parent;
  }

  advert(): TreeAdvert {
    const depth: number[] = [];
    let need = 0;
    for (let s = 0; s < STRIPES; s++) {
      depth.push(this.depth(s));
      if (!this.fed(s)) need |= 1 << s;
    }
    return { depth, need, up: this.env.uploadAllowed() };
  }

  /** A new link: it hears where this page stands. */
  greet(link: PeerLink): void {
    link.sendTree(this.advert());
  }

  /** Look after every stripe's parent and tell peers where this page stands when that changed. */
  tick(): void {
    const now = this.env.clock.now();
    for (let s = 0; s < STRIPES; s++) {
      const d = this.depth(s);
      if (d >= 0) this.lastDepth[s] = d;
      if (!this.env.enabled() || (this.env.headStripes() & (1 << s)) !== 0) {
        this.leave(s);
        continue;
      }
      this.check(s, now);
      if (!this.slots[s]) this.choose(s, now);
    }
    const advert = this.advert();
    const text = `${advert.depth.join(',')}|${advert.need}|${advert.up}`;
    if (text === this.told) return;
    this.told = text;
    for (const l of this.env.links()) if (l.isReady) l.sendTree(advert);
  }

  /** The answer to a `sub`, or a parent that stops feeding this page. */
  onFeed(link: PeerLink, s: number, ok: boolean): void {
    const slot = this.slots[s];
    if (slot?.parent !== link) {
      // A grant this page no longer wants (it asked elsewhere meanwhile): release it.
      if (ok) link.sendSub(s, false, false);
      return;
    }
    if (ok) {
      slot.granted = true;
      return;
    }
    this.slots[s] = undefined;
    this.deny(link, s, this.env.clock.now());
  }

  onClose(link: PeerLink): void {
    for (let s = 0; s < STRIPES; s++) if (this.slots[s]?.parent === link) this.slots[s] = undefined;
    this.denied.delete(link);
  }

  /** Stop every feed (the swarm ends). */
  destroy(): void {
    for (let s = 0; s < STRIPES; s++) this.leave(s);
  }

  private leave(s: number): void {
    const slot = this.slots[s];
    if (!slot) return;
    this.slots[s] = undefined;
    if (slot.parent.isReady) slot.parent.sendSub(s, false, false);
  }

  /** Drop a parent that is gone, never answered, or has had no feed itself for a while. */
  private check(s: number, now: number): void {
    const slot = this.slots[s];
    if (!slot) return;
    if (!slot.parent.isReady) {
      this.slots[s] = undefined;
      return;
    }
    if (!slot.granted) {
      if (now - slot.askedAtMs < SUB_TIMEOUT_MS) return;
      this.deny(slot.parent, s, now);
      this.leave(s);
      return;
    }
    if ((slot.parent.remoteTree?.depth[s] ?? -1) >= 0 && !this.env.unfit(slot.parent)) {
      slot.lostSinceMs = undefined;
      return;
    }
    slot.lostSinceMs ??= now;
    if (now - slot.lostSinceMs < PARENT_GRACE_MS) return;
    this.deny(slot.parent, s, now);
    this.leave(s);
  }

  /** Ask the shallowest fit peer that relays stripe `s` (and has a feed of it) to feed it, at random among equals. */
  private choose(s: number, now: number): void {
    const random = this.env.random ?? Math.random;
    // A page others hang from takes only a parent above where it was: never one of its descendants.
    const below = this.env.hasChildren(s) && this.lastDepth[s]! >= 0 ? this.lastDepth[s]! : MAX_FEED_DEPTH;
    let best: PeerLink | undefined;
    let bestDepth = Infinity;
    let ties = 0;
    for (const l of this.env.links()) {
      const d = l.isReady ? (l.remoteTree?.depth[s] ?? -1) : -1;
      if (d < 0 || d >= below || !l.remoteTree?.up || this.env.isChild(l, s) || this.env.unfit(l) || (this.denied.get(l)?.[s] ?? 0) > now) continue;
      if (d < bestDepth) [best, bestDepth, ties] = [l, d, 1];
      else if (d === bestDepth && random() * ++ties < 1) best = l;
    }
    if (!best) return;
    this.slots[s] = { parent: best, granted: false, askedAtMs: now, lostSinceMs: undefined };
    best.sendSub(s, true, this.relays(s));
  }

  /** Stripes with no parent granted or asked (the tracker's candidates are dialed for them). */
  orphans(): number {
    let mask = 0;
    if (!this.env.enabled()) return 0;
    for (let s = 0; s < STRIPES; s++) if ((this.env.headStripes() & (1 << s)) === 0 && !this.slots[s]) mask |= 1 << s;
    return mask;
  }

  private deny(link: PeerLink, s: number, now: number): void {
    let until = this.denied.get(link);
    if (!until) this.denied.set(link, (until = Array.from({ length: STRIPES }, () => 0)));
    until[s] = now + DENIED_MS;
  }
}
