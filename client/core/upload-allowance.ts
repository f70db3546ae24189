import { UploadBudget } from './upload-budget.js';

/** The site's upload budget setting: bytes per second (0 = no limit), or 'auto'. */
export type UploadSetting = number | 'auto';

/**
 * 'auto': the budget follows the stream. The 2 MB/s floor (16 Mb/s) is 6.4 times a 2.5 Mb/s
 * stream but only 2.7 times a 6 Mb/s one, and the swarm then fills from the origin what the
 * capped uplinks could have carried (docs/architecture.md, "The upload budget"). So the budget is
 * six times the bitrate the page plays, the share a 2.5 Mb/s stream already has, within a floor
 * and a ceiling.
 */
export const AUTO_UPLOAD = { floorBytesPerSec: 2_000_000, perStreamRate: 6, ceilingBytesPerSec: 8_000_000 } as const;

/**
 * The budget in bytes per second for `setting` while the page plays `streamBytesPerSec`
 * (0 before anything is known). `scale` divides the floor and ceiling, for a simulator
 * whose payloads are scaled down.
 */
export function uploadRate(setting: UploadSetting, streamBytesPerSec: number, scale = 1): number {
  if (setting !== 'auto') return Number.isFinite(setting) && setting > 0 ? setting : 0;
  const floor = AUTO_UPLOAD.floorBytesPerSec / scale;
  const ceiling = AUTO_UPLOAD.ceilingBytesPerSec / scale;
  const follow = Number.isFinite(streamBytesPerSec) && streamBytesPerSec > 0 ? AUTO_UPLOAD.perStreamRate * streamBytesPerSec : 0;
  return Math.min(ceiling, Math.max(floor, follow));
}

/** A valid setting from untrusted input (page options, a data- attribute), or undefined. */
export function parseUploadSetting(v: unknown): UploadSetting | undefined {
  if (v === 'auto') return 'auto';
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * The page's upload budget under its setting: before each frame it takes, the bucket's rate
 * is brought to what the setting gives for the stream's current bitrate.
 */
export class UploadAllowance {
  constructor(
    private setting: UploadSetting,
    private readonly streamBytesPerSec: () => number,
    private readonly budget: UploadBudget,
    private readonly scale = 1,
  ) {}

  /** Bytes per second now (0 = no limit). */
  rate(): number {
    return uploadRate(this.setting, this.streamBytesPerSec(), this.scale);
  }

  set(setting: UploadSetting): void {
    this.setting = setting;
    this.budget.setRate(this.rate());
  }

  /** Resolves when `bytes` may be sent. */
  take(bytes: number): Promise<void> {
    const r = this.rate();
    if (r !== this.budget.rate) this.budget.setRate(r);
    return this.budget.take(bytes);
  }
}
