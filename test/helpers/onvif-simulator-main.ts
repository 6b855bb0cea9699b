/**
 * The ONVIF simulator as a process of its own, for a test that runs it inside a network
 * namespace (`ip netns exec NS node --import tsx this-file JSON`). Prints `ready PORT ENDPOINT`
 * once it answers; stops on SIGTERM.
 */
import { OnvifSimulator, type SimulatorOptions } from './onvif-simulator.js';

const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const sim = new OnvifSimulator(options);
await sim.start();
process.stdout.write(`ready ${sim.port} ${sim.endpoint}\n`);
process.on('SIGTERM', () => {
  void sim.stop().then(() => process.exit(0));
});
