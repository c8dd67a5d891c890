// Why src/ssh/shim.ts reuses KeyObjects: the cost of one createDecipheriv, as ssh2 makes one per SSH
// packet, from a key Buffer (converted on every call) against a KeyObject made once. Run it with the
// Node the action runs on (bench/run.sh uses the sandbox's Node 24).
import crypto from 'node:crypto';

const CALLS = 20000;
const key = crypto.randomBytes(16);
const iv = crypto.randomBytes(12);
const keyObject = crypto.createSecretKey(key);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function perCall(k) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) crypto.createDecipheriv('aes-128-gcm', k, iv);
  return Number(process.hrtime.bigint() - start) / CALLS / 1000;
}

const buffer = [];
const object = [];
for (let round = 0; round < 5; round++) {
  buffer.push(perCall(key));
  object.push(perCall(keyObject));
}
console.log(
  `Node ${process.versions.node}: createDecipheriv ${median(buffer).toFixed(1)} µs with a key Buffer, ` +
    `${median(object).toFixed(1)} µs with a KeyObject (median of 5 × ${CALLS} calls; ` +
    `${(median(buffer) / median(object)).toFixed(1)}x)`,
);
