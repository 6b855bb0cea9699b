import { useState } from 'react';
import type { DiscoveredDevice, OnvifProbeResponse } from '@contract/onvif';
import { api } from '../api';

/** What the finder hands to the camera form: the proposed streams and the ONVIF address. */
export interface OnvifChoice {
  name: string;
  main: string;
  sub: string | null;
  user: string;
  password: string;
  onvifUrl: string;
}

/**
 * "Add camera" from the network: discover ONVIF devices (or type an address), give the user
 * name and password once, read the device, and take its proposal into the form below.
 */
export function OnvifFinder(props: { onChoose: (choice: OnvifChoice) => void }) {
  const [devices, setDevices] = useState<DiscoveredDevice[] | null>(null);
  const [searching, setSearching] = useState(false);
  const [address, setAddress] = useState('');
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [reading, setReading] = useState(false);
  const [probe, setProbe] = useState<OnvifProbeResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  const search = async () => {
    setSearching(true);
    setError(null);
    try {
      setDevices((await api.discoverOnvif()).devices);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSearching(false);
    }
  };

  const read = async () => {
    setReading(true);
    setError(null);
    setProbe(null);
    try {
      setProbe(await api.probeOnvif({ address: address.trim(), user, password }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setReading(false);
    }
  };

  const use = () => {
    if (!probe?.proposal) return;
    props.onChoose({
      name: `${probe.device.manufacturer} ${probe.device.model}`.trim(),
      main: probe.proposal.main.url,
      sub: probe.proposal.sub?.url ?? null,
      user,
      password,
      onvifUrl: probe.url,
    });
  };

  return (
    <fieldset className="onvif-finder" aria-label="Find cameras on the network">
      <legend>Find cameras on the network (ONVIF)</legend>
      <div className="probe">
        <button type="button" className="ghost" disabled={searching} onClick={() => void search()}>
          {searching ? 'Searching…' : 'Search the network'}
        </button>
        {devices && devices.length === 0 && (
          <span className="muted">No ONVIF camera answered; type its address below.</span>
        )}
      </div>
      {devices && devices.length > 0 && (
        <ul className="onvif-devices">
          {devices.map((device) => (
            <li key={device.endpoint} data-endpoint={device.endpoint}>
              <button
                type="button"
                className={address === device.addresses[0] ? '' : 'ghost'}
                onClick={() => setAddress(device.addresses[0] ?? '')}
              >
                {[device.manufacturer, device.hardware ?? device.name].filter(Boolean).join(' ') ||
                  device.endpoint}
              </button>{' '}
              <span className="muted">{device.addresses[0]}</span>
            </li>
          ))}
        </ul>
      )}
      <label className="wide">
        Camera address
        <input
          name="onvif-address"
          value={address}
          placeholder="192.168.1.64 or http://192.168.1.64/onvif/device_service"
          onChange={(e) => setAddress(e.target.value)}
        />
      </label>
      <label>
        User
        <input name="onvif-user" autoComplete="off" value={user} onChange={(e) => setUser(e.target.value)} />
      </label>
      <label>
        Password
        <input
          name="onvif-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <div className="probe">
        <button
          type="button"
          className="ghost"
          disabled={reading || !address.trim()}
          onClick={() => void read()}
        >
          {reading ? 'Reading…' : 'Read camera'}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {probe && (
        <div className="probe-result ok" role="status" aria-label="ONVIF proposal">
          <p>
            {probe.device.manufacturer} {probe.device.model} (firmware {probe.device.firmware})
            {probe.ptz ? ' · PTZ' : ''}
          </p>
          <ul>
            {probe.profiles.map((p) => (
              <li key={p.token}>
                {p.name}: {p.encoding ?? '?'} {p.width ?? '?'}×{p.height ?? '?'}, {p.fps ?? '?'} fps
                {p.token === probe.proposal?.main.profile ? ' — main' : ''}
                {p.token === probe.proposal?.sub?.profile ? ' — sub' : ''}
              </li>
            ))}
          </ul>
          {probe.proposal ? (
            <button type="button" onClick={use}>
              Use these streams
            </button>
          ) : (
            <p className="error">The camera offers no RTSP stream.</p>
          )}
        </div>
      )}
    </fieldset>
  );
}
