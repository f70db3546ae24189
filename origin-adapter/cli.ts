/** relaycast-adapter command line. */
import { parseArgs } from 'node:util';
import { P2P_MODES } from './control.js';
import { isPlayerName, PLAYERS } from './player-page.js';
import { DEFAULT_ADAPTER_OPTIONS, startAdapter, type AdapterOptions } from './index.js';

const USAGE = `usage: relaycast-adapter [options]

  --port N           TCP port (default ${DEFAULT_ADAPTER_OPTIONS.port}; 0 = any free port)
  --host H           interface to bind (default ${DEFAULT_ADAPTER_OPTIONS.host})
  --upstream URL     reverse-proxy an existing origin (turns the embedded source off)
  --no-source        no embedded ffmpeg live source
  --no-signaling     no PeerJS signaling and no tracker (pages fall back to the origin)
  --redis URL        redis://HOST:PORT: one node of several sharing signaling and tracker state there
                     (with --no-source and no --upstream: a node that serves only signaling and tracker)
  --p2p on|off|unregister  operator kill switch carried on every playlist (default on)
  --trust-proxy      behind a reverse proxy: rate-limit by the right-most X-Forwarded-For address
  --admin-token T    enable POST /relaycast/admin/p2p with 'Authorization: Bearer T' (or env RELAYCAST_ADMIN_TOKEN)
  --segment-sec N    embedded source segment duration (default ${DEFAULT_ADAPTER_OPTIONS.segmentSec})
  --window N         embedded source playlist window in segments (default ${DEFAULT_ADAPTER_OPTIONS.windowSegments})
  --stream NAME      embedded stream name (default ${DEFAULT_ADAPTER_OPTIONS.streamName})
  --renditions N     embedded source ABR ladder: 1-3 video renditions (default ${DEFAULT_ADAPTER_OPTIONS.renditions})
  --bitrate-kbps K   embedded live video at a constant K kbit/s with filler (x264 CBR, 320x180): HD-sized
                     segments that stay cheap to decode; only with --renditions 1 (default: the ladder, 250)
  --vod-sec N        seconds of the embedded VOD asset at /vod/<stream>/ (default ${DEFAULT_ADAPTER_OPTIONS.vodSec}; 0 = none)
  --ingest rtmp      the stream is what a streamer pushes (OBS, ffmpeg) to rtmp://INGEST-HOST:INGEST-PORT/live
                     with the stream key, instead of the test pattern; H.264/AAC copied through
  --ingest-host H    interface the RTMP ingest binds (default ${DEFAULT_ADAPTER_OPTIONS.ingestHost})
  --ingest-port N    RTMP ingest port (default ${DEFAULT_ADAPTER_OPTIONS.ingestPort}; 0 = any free port)
  --stream-key K     the key a push must carry (or env RELAYCAST_STREAM_KEY): 8-256 of A-Z a-z 0-9 . _ ~ -
  --input FILE|URL   publish what ffmpeg reads from FILE or URL (HLS, RTSP, HTTP, ...) as the live stream
  --loop             with --input FILE: start again at its end
  --title T          the broadcast page's title (default: the stream name)
  --player P         player of the generated page: hls.js, dash.js, video.js or shaka (default ${DEFAULT_ADAPTER_OPTIONS.player});
                     /watch/<stream>?player=P&protocol=hls|dash&vod=1 picks per page
  --stun-url URL     STUN server for pages, stun:HOST:PORT (repeatable)
  --turn-url URL     TURN server for pages, turn:HOST:PORT?transport=udp (repeatable); needs --turn-secret
  --turn-secret S    coturn's static-auth-secret (use-auth-secret): pages get credentials that expire,
                     never this secret (or env RELAYCAST_TURN_SECRET)
  --turn-ttl-sec N   lifetime of a page's TURN credential (default ${DEFAULT_ADAPTER_OPTIONS.turnTtlSec})
  --help             this text
`;

class UsageError extends Error {}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

function parseCli(argv: string[]): Partial<AdapterOptions> | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        upstream: { type: 'string' },
        'no-source': { type: 'boolean' },
        'no-signaling': { type: 'boolean' },
        redis: { type: 'string' },
        p2p: { type: 'string' },
        'admin-token': { type: 'string' },
        'trust-proxy': { type: 'boolean' },
        'segment-sec': { type: 'string' },
        window: { type: 'string' },
        stream: { type: 'string' },
        renditions: { type: 'string' },
        'bitrate-kbps': { type: 'string' },
        'vod-sec': { type: 'string' },
        ingest: { type: 'string' },
        'ingest-host': { type: 'string' },
        'ingest-port': { type: 'string' },
        'stream-key': { type: 'string' },
        input: { type: 'string' },
        loop: { type: 'boolean' },
        title: { type: 'string' },
        player: { type: 'string' },
        'stun-url': { type: 'string', multiple: true },
        'turn-url': { type: 'string', multiple: true },
        'turn-secret': { type: 'string' },
        'turn-ttl-sec': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  if (values.help === true) return 'help';
  if (values.p2p !== undefined && !P2P_MODES.some((m) => m === values.p2p)) throw new UsageError('--p2p must be on, off or unregister');
  const source = values['no-source'] === true ? false : undefined;
  if (values.player !== undefined && !isPlayerName(values.player)) throw new UsageError(`--player must be one of ${PLAYERS.join(', ')}`);
  if (values.ingest !== undefined && values.ingest !== 'rtmp') throw new UsageError('--ingest must be rtmp');
  return {
    port: int('port', values.port),
    host: values.host,
    upstream: values.upstream,
    source,
    signaling: values['no-signaling'] === true ? false : undefined,
    redis: values.redis,
    p2p: P2P_MODES.find((m) => m === values.p2p),
    adminToken: values['admin-token'] ?? process.env['RELAYCAST_ADMIN_TOKEN'],
    trustProxy: values['trust-proxy'] === true ? true : undefined,
    segmentSec: int('segment-sec', values['segment-sec']),
    windowSegments: int('window', values.window),
    streamName: values.stream,
    renditions: int('renditions', values.renditions),
    bitrateKbps: int('bitrate-kbps', values['bitrate-kbps']),
    vodSec: int('vod-sec', values['vod-sec']),
    ingest: values.ingest === 'rtmp' ? 'rtmp' : undefined,
    ingestHost: values['ingest-host'],
    ingestPort: int('ingest-port', values['ingest-port']),
    streamKey: values['stream-key'] ?? (values.ingest === 'rtmp' ? process.env['RELAYCAST_STREAM_KEY'] : undefined),
    input: values.input,
    loop: values.loop === true ? true : undefined,
    title: values.title,
    player: isPlayerName(values.player) ? values.player : undefined,
    stunUrls: values['stun-url'],
    turnUrls: values['turn-url'],
    turnSecret: values['turn-secret'] ?? process.env['RELAYCAST_TURN_SECRET'],
    turnTtlSec: int('turn-ttl-sec', values['turn-ttl-sec']),
  };
}

async function main(): Promise<void> {
  let opts: Partial<AdapterOptions> | 'help';
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`relaycast-adapter: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  let adapter;
  try {
    adapter = await startAdapter(opts);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`relaycast-adapter: ${msg}\n`);
    process.exit(e instanceof RangeError ? 2 : 1);
  }
  console.log(`relaycast adapter on ${adapter.url}`);
  console.log(`player: ${adapter.playerUrl}`);
  if (adapter.ingestPort !== undefined) {
    const host = opts.ingestHost ?? DEFAULT_ADAPTER_OPTIONS.ingestHost;
    console.log(`RTMP ingest: rtmp://${host === '0.0.0.0' ? '<this machine>' : host}:${adapter.ingestPort}/live  (stream key: the one you set; or <stream>?key=<key>)`);
  }
  let shuttingDown = false;
  const shutdown = (signal: string): void => {
    if (shuttingDown) process.exit(130);
    shuttingDown = true;
    console.log(`${signal}: shutting down`);
    void adapter.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
