// hls.js ships types for its full build only; the light build (no subtitles, alternate audio or
// DRM, none of which cameras use) has the same API and is a third smaller.
declare module 'hls.js/light' {
  export * from 'hls.js';
  export { default } from 'hls.js';
}
