/**
 * A streamer for tests and the load tool: ffmpeg pushing over RTMP exactly what OBS sends by
 * default (FLV; H.264 High at a constant bitrate with a keyframe every 2 s; AAC at 48 kHz), from
 * a test pattern. With `clock`, the pusher's wall clock is burned into the top 16 rows of every
 * frame as 32 black-or-white blocks (the milliseconds since 1970, modulo 2^32, least significant
 * bit first), so a viewer's page can read, from the frame on its screen, when that frame was
 * captured (e2e/support/clock-probe.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { defaultFfmpegPath } from '../../origin-adapter/live-source.js';

export const CLOCK = { bits: 32, blockPx: 8, rowsPx: 16 } as const;

export interface PusherOptions {
  /** rtmp://host:port/live/<stream>?key=<key> (or the key alone as the last part). */
  readonly url: string;
  readonly clock?: boolean;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  readonly videoKbps?: number;
  readonly keyframeSec?: number;
  /** Stop after this long; default: until stop(). */
  readonly durationSec?: number;
}

/**
 * The clock strip: a black 16-row picture whose pts is set to the wall clock (RTCTIME, µs) as
 * the frame passes, coloured per bit by geq, then given back ordinary timestamps.
 */
function clockStrip(width: number, fps: number): string {
  const bit = `255*mod(floor(T*1000/pow(2\\,floor(X/${CLOCK.blockPx})))\\,2)`;
  return (
    `color=c=black:s=${width}x${CLOCK.rowsPx}:r=${fps},settb=1/1000000,setpts=RTCTIME,` +
    `geq=lum='if(lt(X\\,${CLOCK.bits * CLOCK.blockPx})\\,${bit}\\,0)':cb=128:cr=128,setpts=N/${fps}/TB,format=yuv420p[clock]`
  );
}

export function pusherArgs(o: PusherOptions): string[] {
  const w = o.width ?? 320;
  const h = o.height ?? 180;
  const fps = o.fps ?? 25;
  const k = o.videoKbps ?? 500;
  const gop = String(Math.round((o.keyframeSec ?? 2) * fps));
  const video = o.clock === true ? ['-filter_complex', `${clockStrip(w, fps)};[0:v][clock]overlay=0:0:shortest=1[v]`, '-map', '[v]', '-map', '1:a'] : ['-map', '0:v', '-map', '1:a'];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    ...video,
    ...(o.durationSec !== undefined ? ['-t', String(o.durationSec)] : []),
    '-c:v', 'libx264', '-profile:v', 'high', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-b:v', `${k}k`, '-minrate', `${k}k`, '-maxrate', `${k}k`, '-bufsize', `${k}k`,
    '-g', gop, '-keyint_min', gop, '-sc_threshold', '0',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2',
    '-f', 'flv', o.url,
  ];
}

export interface Pusher {
  readonly process: ChildProcess;
  /** Resolves with ffmpeg's exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  stderr(): string;
  /** Stops pushing (as when OBS stops streaming: the connection closes). */
  stop(): Promise<void>;
}

export async function startPusher(o: PusherOptions): Promise<Pusher> {
  const bin = await defaultFfmpegPath();
  const p = spawn(bin, pusherArgs(o), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr?.setEncoding('utf8');
  p.stderr?.on('data', (s: string) => {
    err = (err + s).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => p.on('close', (code) => resolve(code)));
  const killOnExit = (): void => void p.kill('SIGKILL');
  process.on('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));
  return {
    process: p,
    exited,
    stderr: () => err,
    async stop() {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
