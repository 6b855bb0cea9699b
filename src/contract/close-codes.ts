/** WebSocket close codes of the live endpoint: the camera was edited (reconnect) or deleted (stop). */
export const LIVE_CLOSE_CHANGED = 4000;
export const LIVE_CLOSE_REMOVED = 4404;
/**
 * Close code of the live and push (/api/ws) WebSockets when the access they were opened with
 * ends: signed out (everywhere), user disabled or deleted, token revoked, password changed, or
 * the camera no longer granted. Clients stop and do not reconnect; whether the browser is still
 * signed in is for the next API request to tell.
 */
export const WS_CLOSE_ACCESS_REVOKED = 4401;
