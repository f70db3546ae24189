/** Origin fetches and whole-segment checks under way, by segment id: a player request waits for them. */
export class Jobs {
  private readonly running = new Map<string, Promise<boolean>>();

  get(id: string): Promise<boolean> | undefined {
    return this.running.get(id);
  }

  has(id: string): boolean {
    return this.running.has(id);
  }

  /** Tracks `job` for `id` until it settles (a rejection counts as `false`). */
  track(id: string, job: Promise<boolean>): Promise<boolean> {
    const guarded = job.catch(() => false);
    this.running.set(id, guarded);
    void guarded.then(() => {
      if (this.running.get(id) === guarded) this.running.delete(id);
    });
    return guarded;
  }
}
