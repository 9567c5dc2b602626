/**
 * `npm run synth`: the tests' app for `cdk synth`, offline (no lookups, the
 * account and region are fixed).
 */
import { ordersApp } from './fixture';

ordersApp().app.synth();
