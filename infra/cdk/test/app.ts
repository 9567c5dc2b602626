/**
 * `npm run synth`: the tests' apps for `cdk synth`, offline (no lookups, the
 * account and region are fixed): the stream consumers, and the Kafka
 * consumers of an MSK and a self-managed cluster.
 */
import { ordersApp } from './fixture';
import { kafkaConsumer } from './kafka-fixture';

const { app } = ordersApp();
kafkaConsumer('msk', app);
kafkaConsumer('self-managed', app);
app.synth();
