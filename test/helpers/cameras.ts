/**
 * Real RTSP cameras for integration tests. On development machines and in CI the GStreamer
 * emulator in ../shared/tools/rtsp-cameras serves real camera footage; elsewhere (a user's
 * checkout, where ../shared does not exist) a small RTSP server of our own serves generated
 * footage, so the suite passes there too. Set VIGIL_TEST_CAMERAS=mini (or =emulator) to choose.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { spawnTracked, stopChild, type TrackedChild } from './children.js';
import { footagePaths, repoRoot } from './footage.js';
import { reportStandIn } from './stand-ins.js';
import { cameraUrls, startMiniRtspServer, type CameraUrls } from './mini-rtsp-server.js';

export type { CameraUrls } from './mini-rtsp-server.js';

const execFileAsync = promisify(execFile);

export type CamerasKind = 'emulator' | 'mini';

export interface StartCamerasOptions {
  /** Cameras cam1..cam<count>, each with a main and a sub stream. */
  count: number;
  /** With user, the cameras require RTSP Digest authentication, and urls() carry the credentials. */
  user?: string;
  password?: string;
  /** Default: a free port. */
  port?: number;
  /** Default: VIGIL_TEST_CAMERAS, else the emulator when it can run here, else the mini server. */
  kind?: CamerasKind;
  /** Files to serve instead of the default footage (e.g. H.265). */
  footage?: { main: string; sub: string };
  /** RTP over UDP for clients that ask (the emulator always offers it; the mini server only with this). */
  udp?: boolean;
}

export interface TestCameras {
  readonly kind: CamerasKind;
  /** The same across stop() and start(), so URLs handed out stay valid. */
  readonly port: number;
  readonly count: number;
  /** URLs of camera i (1-based): rtsp://[user:password@]127.0.0.1:<port>/cam<i>/main and …/sub. */
  urls(i: number): CameraUrls;
  /** Takes every camera off the network (clients see their connection close); idempotent. */
  stop(): Promise<void>;
  /** Brings the cameras back on the same port after stop() (or a crash); does nothing while they run. */
  start(): Promise<void>;
  /** stop() then start(): a camera going offline and coming back. */
  restart(): Promise<void>;
  /**
   * Stops the media while connections stay open (SIGSTOP to the processes that produce it): a
   * camera that hangs without closing its socket. thaw() lets it continue.
   */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
}

/** The Debian python that has the GStreamer bindings (the default python3 may be another build). */
const PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 20_000;
/** How long a restart waits for the port to be released by the previous run. */
const PORT_RETRY_MS = 5_000;

/** The emulator script when this checkout sits next to ../shared, else null. */
export function emulatorScript(): string | null {
  const script = resolve(repoRoot, '..', 'shared', 'tools', 'rtsp-cameras');
  return existsSync(script) ? script : null;
}

let emulatorProbe: Promise<boolean> | null = null;

/** Whether the emulator can run: its script exists and python has GStreamer's RTSP server bindings. */
export function emulatorUsable(): Promise<boolean> {
  emulatorProbe ??= (async () => {
    if (!emulatorScript() || !existsSync(PYTHON)) return false;
    try {
      // Importing gi alone is not enough: the RTSP server typelib is a separate Debian package.
      await execFileAsync(
        PYTHON,
        [
          '-c',
          "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); " +
            'from gi.repository import Gst, GstRtspServer',
        ],
        { timeout: 20_000 },
      );
      return true;
    } catch {
      return false;
    }
  })();
  return emulatorProbe;
}

function kindFromEnv(): CamerasKind | null {
  const value = (process.env.VIGIL_TEST_CAMERAS ?? '').trim().toLowerCase();
  if (value === '' || value === 'auto') return null;
  if (value === 'mini' || value === 'emulator') return value;
  throw new Error(`VIGIL_TEST_CAMERAS=${value} is not one of: mini, emulator, auto`);
}

/** Which cameras startCameras() would run here. */
export async function camerasKind(requested?: CamerasKind): Promise<CamerasKind> {
  const wanted = requested ?? kindFromEnv();
  if (wanted === 'mini') return 'mini';
  const usable = await emulatorUsable();
  if (wanted === 'emulator' && !usable) {
    throw new Error(
      `the camera emulator cannot run: it needs ${resolve(repoRoot, '..', 'shared', 'tools', 'rtsp-cameras')} ` +
        `and ${PYTHON} with python3-gi and gir1.2-gst-rtsp-server-1.0`,
    );
  }
  if (!usable) {
    reportStandIn(
      'our own RTSP server stood in for the camera emulator (it needs ../shared/tools/rtsp-cameras and GStreamer)',
    );
  }
  return usable ? 'emulator' : 'mini';
}

/** A TCP port nobody listens on right now (the OS picks it; it may be taken again before use). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => done());
  });
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (address === null || typeof address === 'string') throw new Error('no free port found');
  return address.port;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

class PortInUse extends Error {}

/** One run of the emulator: resolves once it prints its ready line. */
async function launchEmulator(
  script: string,
  port: number,
  options: StartCamerasOptions,
): Promise<TrackedChild> {
  const args = [script, '--count', String(options.count), '--port', String(port), '--host', '127.0.0.1'];
  if (options.footage) args.push(`--main=${options.footage.main}`, `--sub=${options.footage.sub}`);
  // The --flag=value form, so a password starting with '-' is not taken for an option.
  if (options.user) args.push(`--user=${options.user}`, `--password=${options.password ?? ''}`);
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((done) => {
    markReady = done;
  });
  const child = spawnTracked(PYTHON, args, {
    deathSignal: 'TERM',
    onStdoutLine: (line) => {
      if (line.startsWith('ready ')) markReady();
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    child.exited.then(() => 'exited' as const),
    new Promise<'timeout'>((done) => {
      timer = setTimeout(() => done('timeout'), READY_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome === 'ready') return child;
  if (outcome === 'timeout') await stopChild(child);
  const { code, signal } = await child.exited;
  const stderr = child.stderrTail().trim();
  if (/cannot listen/.test(stderr)) throw new PortInUse(stderr);
  const how =
    outcome === 'timeout' ? `printed no ready line in ${READY_TIMEOUT_MS} ms` : `exited (${signal ?? code})`;
  throw new Error(`camera emulator ${script} ${how}; its stderr:\n${stderr || '(empty)'}`);
}

interface Running {
  /** False once it has died on its own, so start() knows to launch it again. */
  alive(): boolean;
  stop(): Promise<void>;
  /** The processes that produce the media, for freeze() and thaw(). */
  mediaPids(): Promise<number[]>;
}

async function pidsMatching(pattern: string): Promise<number[]> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-f', pattern]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

class Cameras implements TestCameras {
  private running: Running | null = null;
  /** start/stop calls run one at a time, in call order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly kind: CamerasKind,
    private currentPort: number,
    private readonly options: StartCamerasOptions,
  ) {}

  get port(): number {
    return this.currentPort;
  }

  get count(): number {
    return this.options.count;
  }

  urls(i: number): CameraUrls {
    if (!Number.isInteger(i) || i < 1 || i > this.options.count) {
      throw new RangeError(`camera ${i} does not exist: there are cam1..cam${this.options.count}`);
    }
    return cameraUrls(this.currentPort, i, this.options);
  }

  start(): Promise<void> {
    return this.enqueue(async () => {
      if (this.running?.alive()) return;
      await this.running?.stop();
      this.running = await this.launch();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(async () => {
      const running = this.running;
      this.running = null;
      await running?.stop();
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async freeze(): Promise<void> {
    for (const pid of (await this.running?.mediaPids()) ?? []) process.kill(pid, 'SIGSTOP');
  }

  async thaw(): Promise<void> {
    for (const pid of (await this.running?.mediaPids()) ?? []) process.kill(pid, 'SIGCONT');
  }

  /**
   * The emulator sometimes aborts as a client connects (GStreamer's
   * "gst_rtsp_media_get_rates: assertion failed", about one start in four under load). A real
   * camera that reboots comes back on its own; so does this one, on the same port, unless stop()
   * was asked for. Vigil sees a short outage, as it would with a real camera.
   */
  private reviveOnCrash(child: TrackedChild, running: Running): void {
    void child.exited.then(({ code, signal }) => {
      if (this.running !== running) return;
      process.stderr.write(
        `camera emulator exited on its own (${signal ?? code}); restarting it on port ${this.currentPort}\n` +
          `${child.stderrTail().trim().split('\n').slice(-3).join('\n')}\n`,
      );
      this.start().catch((error: unknown) =>
        process.stderr.write(`cannot restart the emulator: ${String(error)}\n`),
      );
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const result = this.queue.then(step);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async launch(): Promise<Running> {
    if (this.kind === 'mini') {
      const footage = this.options.footage ?? (await footagePaths());
      const server = await startMiniRtspServer({
        port: this.currentPort,
        main: footage.main,
        sub: footage.sub,
        count: this.options.count,
        user: this.options.user,
        password: this.options.password,
        udp: this.options.udp,
      });
      this.currentPort = server.port;
      // The RTP sources are the ffmpeg children; the RTSP server in this process keeps the sockets.
      return { alive: () => true, stop: () => server.stop(), mediaPids: () => pidsMatching(server.workDir) };
    }
    const script = emulatorScript();
    if (!script) throw new Error('the camera emulator script has gone');
    const portFixed = this.currentPort !== 0;
    const deadline = Date.now() + PORT_RETRY_MS;
    for (let attempt = 1; ; attempt += 1) {
      const port = portFixed ? this.currentPort : await freePort();
      try {
        const child = await launchEmulator(script, port, this.options);
        this.currentPort = port;
        const running: Running = {
          alive: () => child.process.exitCode === null && child.process.signalCode === null,
          stop: async () => {
            child.process.kill('SIGCONT');
            await stopChild(child, 5000);
          },
          mediaPids: async () => [child.pid],
        };
        this.reviveOnCrash(child, running);
        return running;
      } catch (error) {
        if (!(error instanceof PortInUse)) throw error;
        // A chosen port can be taken between freePort() and the emulator's bind: choose again.
        // A fixed port (a restart) may still be held by the previous run for a moment: wait.
        if (portFixed ? Date.now() > deadline : attempt >= 5) {
          throw new Error(`camera emulator cannot listen on 127.0.0.1:${port}: ${error.message}`);
        }
        if (portFixed) await sleep(200);
      }
    }
  }
}

/**
 * Starts `count` cameras (cam1..cam<count>, each with /main and /sub) and resolves once they
 * accept connections. Call stop() when done; the children are also killed if the test process
 * exits or dies.
 */
export async function startCameras(options: StartCamerasOptions): Promise<TestCameras> {
  if (!Number.isInteger(options.count) || options.count < 1)
    throw new Error('count must be a positive integer');
  const kind = await camerasKind(options.kind);
  const cameras = new Cameras(kind, options.port ?? 0, options);
  await cameras.start();
  return cameras;
}
