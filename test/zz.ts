import { startCameras } from './helpers/cameras.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const ex = promisify(execFile);
for (let k = 0; k < 10; k++) {
  const c = await startCameras({ count: 1 });
  const r = await ex('ffmpeg', ['-v','error','-rtsp_transport','tcp','-i', c.urls(1).sub, '-t', '1', '-c', 'copy', '-f', 'null', '-'], {timeout: 15000}).then(x => 'ok', e => 'ERR ' + String(e.stderr).slice(0, 300));
  console.log(k, r);
  if (r !== 'ok') { await new Promise(r => setTimeout(r, 500)); console.log('emulator stderr:', (c as any).debugStderr?.() ?? ''); }
  await c.stop();
}
