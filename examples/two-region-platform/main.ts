import { App } from 'cdktf';
import { buildTwoRegionPlatform } from './platform';

// The CDKTF app (cdktf.json: "app": "npx ts-node main.ts"): `cdktf synth` writes both stacks to cdktf.out/.
const app = new App();
buildTwoRegionPlatform(app);
app.synth();
