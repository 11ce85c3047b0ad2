import assert from 'node:assert/strict';
import { test } from 'node:test';
import { soundOpening } from '../../src/analysis/sound-opening.ts';

const RATE = 16_000;
const hop = (parts: { hz: number; amplitude: number }[]) =>
  Float32Array.from({ length: 512 }, (_, n) => parts.reduce((s, p) => s + p.amplitude * Math.sin((2 * Math.PI * p.hz * n) / RATE), 0));

test('an open voice (energy at 500–1500 Hz) reads higher than a closed one (energy at 80–400 Hz), whatever its loudness', () => {
  const open = soundOpening(hop([{ hz: 200, amplitude: 0.05 }, { hz: 1000, amplitude: 0.2 }]), RATE);
  const closed = soundOpening(hop([{ hz: 200, amplitude: 0.2 }, { hz: 1000, amplitude: 0.05 }]), RATE);
  assert.ok(open > 1 && closed < -1, `open ${open}, closed ${closed}`);
  // the same sounds, four times as loud: the same reading
  const louder = soundOpening(hop([{ hz: 200, amplitude: 0.2 }, { hz: 1000, amplitude: 0.8 }]), RATE);
  assert.ok(Math.abs(louder - open) < 1e-6, `${louder} against ${open}`);
  // energy outside both bands does not count
  const high = soundOpening(hop([{ hz: 200, amplitude: 0.05 }, { hz: 1000, amplitude: 0.2 }, { hz: 4000, amplitude: 0.5 }]), RATE);
  assert.ok(Math.abs(high - open) < 0.05, `${high} against ${open}`);
});

test('silence reads 0: both bands are floored', () => {
  assert.equal(soundOpening(new Float32Array(512), RATE), 0);
  assert.equal(soundOpening(hop([{ hz: 1000, amplitude: 1e-4 }]), RATE), 0);
});
