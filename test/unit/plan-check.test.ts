import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFaceChoice, checkPlan, overlapMs, validInsertRange, type FaceChoice, type PlanSession } from '../../src/analysis/plan-check.ts';
import { sniffSoundBytes } from '../../src/media/sound-file.ts';

/** An 8 s video: face "0" usable 1000–7000 ms, face "1" 5000–6500 ms (1.5 s, shorter than the 2 s overlap). */
const SESSION: PlanSession = {
  videoDurationMs: 8000,
  faces: [
    { face_id: '0', start_time: 1000, end_time: 7000 },
    { face_id: '1', start_time: 5000, end_time: 6500 },
  ],
};

const choice = (over: Partial<FaceChoice> = {}): FaceChoice => ({ face_id: '0', sound_start_time: 0, sound_end_time: 3000, sound_insert_time: 2000, ...over });
const rules = (c: ReturnType<typeof checkFaceChoice>) => c.problems.map((p) => `${p.code} ${p.rule}`);

describe('plan check: the rules of the lip-sync step', () => {
  it('a plan inside every rule is accepted, with no problems and its own insert time as the nearest', () => {
    const c = checkFaceChoice(choice(), 5000, SESSION);
    assert.equal(c.accepted, true);
    assert.deepEqual(c.problems, []);
    assert.equal(c.cropped_ms, 3000);
    assert.deepEqual(c.inserted, { start_time: 2000, end_time: 5000 });
    assert.deepEqual(c.face, { start_time: 1000, end_time: 7000 });
    assert.equal(c.overlap_ms, 3000);
    assert.equal(c.nearest_insert_time, 2000);
    assert.deepEqual(c.insert_time_range, { earliest: 0, latest: 5000 });
  });

  it('audio 2–60 s: 1999 ms and 60001 ms are refused (014001501), 2000 and 60000 pass', () => {
    for (const ms of [1999, 60_001, 0]) {
      const c = checkFaceChoice(choice({ sound_end_time: Math.min(ms, 3000), sound_start_time: 0 }), ms, SESSION);
      assert.ok(rules(c).includes('014001501 audio_duration_out_of_range'), `${ms}: ${JSON.stringify(c.problems)}`);
      const p = c.problems.find((x) => x.rule === 'audio_duration_out_of_range')!;
      assert.match(p.message, new RegExp(`${ms / 1000} s long, outside 2–60 s`));
    }
    for (const ms of [2000, 60_000]) {
      const c = checkFaceChoice(choice({ sound_end_time: 2000, sound_insert_time: 2000 }), ms, SESSION);
      assert.deepEqual(c.problems, [], `${ms}`);
    }
  });

  it('cropped audio ≥ 2 s: 1999 ms is refused (014001502), an empty or reversed crop too', () => {
    const short = checkFaceChoice(choice({ sound_start_time: 1000, sound_end_time: 2999 }), 5000, SESSION);
    assert.ok(rules(short).includes('014001502 cropped_audio_too_short'), JSON.stringify(short.problems));
    assert.match(short.problems.find((p) => p.rule === 'cropped_audio_too_short')!.message, /1\.999 s, shorter than 2 s/);
    const reversed = checkFaceChoice(choice({ sound_start_time: 3000, sound_end_time: 1000 }), 5000, SESSION);
    assert.ok(rules(reversed).includes('014001502 cropped_audio_too_short'));
    assert.deepEqual(reversed.inserted, { start_time: 2000, end_time: 2000 }, 'a reversed crop inserts nothing');
    const exact = checkFaceChoice(choice({ sound_start_time: 1000, sound_end_time: 3000 }), 5000, SESSION);
    assert.deepEqual(exact.problems, []);
  });

  it('sound_end_time no later than the audio\'s end: 5001 in a 5000 ms audio is refused (014001503), 5000 passes', () => {
    const late = checkFaceChoice(choice({ sound_start_time: 2001, sound_end_time: 5001 }), 5000, SESSION);
    assert.deepEqual(rules(late), ['014001503 crop_past_audio_end']);
    assert.match(late.problems[0]!.message, /sound_end_time 5001 ms is later than the audio's end at 5000 ms/);
    assert.equal(late.accepted, false);
    assert.equal(late.nearest_insert_time, 2000, 'moving the insert cannot fix the crop, but the insert itself is fine');
    assert.deepEqual(checkFaceChoice(choice({ sound_start_time: 2000, sound_end_time: 5000 }), 5000, SESSION).problems, []);
  });

  it('the inserted span inside the video: ending at 8001 in an 8000 ms video, or starting before 0, is refused (014001504)', () => {
    const toEnd: PlanSession = { videoDurationMs: 8000, faces: [{ face_id: '0', start_time: 1000, end_time: 8000 }] };
    const over = checkFaceChoice(choice({ sound_insert_time: 5001 }), 5000, toEnd);
    assert.deepEqual(rules(over), ['014001504 insert_outside_video']);
    assert.match(over.problems[0]!.message, /5001–8001 ms is not inside the video's 0–8000 ms/);
    assert.equal(over.nearest_insert_time, 5000);
    const before = checkFaceChoice(choice({ sound_insert_time: -1 }), 5000, SESSION);
    assert.ok(rules(before).includes('014001504 insert_outside_video'));
    assert.equal(before.nearest_insert_time, 0);
    assert.deepEqual(checkFaceChoice(choice({ sound_insert_time: 5000 }), 5000, SESSION).problems, [], 'ending exactly at the end is inside');
  });

  it('overlap with the face ≥ 2 s: 1999 ms is refused (014001505) and the nearest insert time gives exactly 2 s', () => {
    // face "0" 1000–7000; a 3 s crop at 5001 overlaps 5001–7000 = 1999 ms (and lies inside a 10 s video)
    const c = checkFaceChoice(choice({ sound_insert_time: 5001, sound_end_time: 3000 }), 5000, { ...SESSION, videoDurationMs: 10_000 });
    assert.deepEqual(rules(c), ['014001505 face_overlap_too_short']);
    assert.equal(c.overlap_ms, 1999);
    assert.match(c.problems[0]!.message, /by 1\.999 s, less than 2 s/);
    assert.equal(c.nearest_insert_time, 5000);
    const fixed = checkFaceChoice(choice({ sound_insert_time: c.nearest_insert_time! }), 5000, { ...SESSION, videoDurationMs: 10_000 });
    assert.deepEqual(fixed.problems, []);
    assert.equal(fixed.overlap_ms, 2000);
    // from the other side: a 3 s crop at 0 overlaps 1000–3000 = 2000 ms: accepted; at -1 it would be 1999
    assert.equal(checkFaceChoice(choice({ sound_insert_time: 0 }), 5000, SESSION).overlap_ms, 2000);
  });

  it('a face whose interval is shorter than 2 s can never be overlapped 2 s: refused, no valid insert time', () => {
    const c = checkFaceChoice(choice({ face_id: '1', sound_insert_time: 4000, sound_end_time: 4000 }), 5000, SESSION);
    assert.deepEqual(rules(c), ['014001505 face_overlap_too_short']);
    assert.equal(c.overlap_ms, 1500);
    assert.equal(c.insert_time_range, null);
    assert.equal(c.nearest_insert_time, null);
  });

  it('unknown face_id: refused (014001506) naming the session\'s faces, no interval, no overlap, no insert time', () => {
    const c = checkFaceChoice(choice({ face_id: '7' }), 5000, SESSION);
    assert.deepEqual(rules(c), ['014001506 face_id_unknown']);
    assert.match(c.problems[0]!.message, /face_id "7" is not a face of this session \(its faces: "0", "1"\)/);
    assert.equal(c.face, null);
    assert.equal(c.overlap_ms, null);
    assert.equal(c.nearest_insert_time, null);
    const none = checkFaceChoice(choice(), 5000, { videoDurationMs: 8000, faces: [] });
    assert.match(none.problems[0]!.message, /its faces: none/);
  });

  it('every broken rule is listed, not only the first', () => {
    const c = checkFaceChoice(choice({ sound_start_time: 60_000, sound_end_time: 61_000, sound_insert_time: 7500 }), 61_000, SESSION);
    assert.deepEqual(rules(c), [
      '014001501 audio_duration_out_of_range',
      '014001502 cropped_audio_too_short',
      '014001504 insert_outside_video',
      '014001505 face_overlap_too_short',
    ]);
    assert.equal(c.nearest_insert_time, null, 'a 1 s crop fits nowhere');
  });

  it('a plan is accepted only when every choice is; an empty plan is not', () => {
    const good = { choice: choice(), audioDurationMs: 5000 };
    const bad = { choice: choice({ face_id: '9' }), audioDurationMs: 5000 };
    assert.equal(checkPlan([good, good], SESSION).accepted, true);
    const mixed = checkPlan([good, bad], SESSION);
    assert.equal(mixed.accepted, false);
    assert.deepEqual(mixed.checks.map((c) => c.accepted), [true, false]);
    assert.equal(checkPlan([], SESSION).accepted, false);
  });
});

describe('plan check: the nearest valid insert time', () => {
  const face = { start_time: 1000, end_time: 7000 };
  it('the range is bounded by the video and by a 2 s overlap at either end of the face', () => {
    assert.deepEqual(validInsertRange(3000, face, 8000), { earliest: 0, latest: 5000 });
    assert.deepEqual(validInsertRange(3000, { start_time: 4000, end_time: 7000 }, 20_000), { earliest: 3000, latest: 5000 });
    assert.deepEqual(validInsertRange(8000, face, 8000), { earliest: 0, latest: 0 }, 'a crop as long as the video fits only at 0');
    assert.equal(validInsertRange(8001, face, 8000), null, 'longer than the video');
    assert.equal(validInsertRange(1999, face, 8000), null, 'a crop under 2 s never overlaps 2 s');
    assert.equal(validInsertRange(3000, { start_time: 6500, end_time: 8000 }, 8000), null, 'a face under 2 s');
  });

  it('every time in the range is valid and the times just outside are not (brute force over a grid)', () => {
    const session: PlanSession = { videoDurationMs: 9000, faces: [{ face_id: '0', start_time: 2500, end_time: 6200 }] };
    for (const crop of [1500, 2000, 2600, 4000, 7000, 9000, 9500]) {
      const valid: number[] = [];
      for (let t = -1000; t <= 10_000; t += 50) {
        const c = checkFaceChoice({ face_id: '0', sound_start_time: 0, sound_end_time: crop, sound_insert_time: t }, 30_000, session);
        if (c.accepted) valid.push(t);
        const range = c.insert_time_range;
        if (range) assert.equal(c.nearest_insert_time, Math.min(range.latest, Math.max(range.earliest, t)));
        if (c.nearest_insert_time !== null) {
          const moved = checkFaceChoice({ face_id: '0', sound_start_time: 0, sound_end_time: crop, sound_insert_time: c.nearest_insert_time }, 30_000, session);
          assert.equal(moved.accepted, true, `crop ${crop} at ${t} → ${c.nearest_insert_time}: ${JSON.stringify(moved.problems)}`);
        } else {
          assert.equal(c.accepted, false);
        }
      }
      const range = validInsertRange(crop, session.faces[0]!, session.videoDurationMs);
      if (valid.length === 0) assert.equal(range, null, `crop ${crop}`);
      else {
        assert.ok(range, `crop ${crop}`);
        assert.ok(valid[0]! >= range.earliest && valid[0]! - 50 < range.earliest, `crop ${crop}: first valid ${valid[0]} vs ${range.earliest}`);
        assert.ok(valid.at(-1)! <= range.latest && valid.at(-1)! + 50 > range.latest, `crop ${crop}: last valid ${valid.at(-1)} vs ${range.latest}`);
      }
    }
  });

  it('overlapMs', () => {
    assert.equal(overlapMs({ start_time: 0, end_time: 10 }, { start_time: 5, end_time: 20 }), 5);
    assert.equal(overlapMs({ start_time: 0, end_time: 10 }, { start_time: 10, end_time: 20 }), 0);
    assert.equal(overlapMs({ start_time: 0, end_time: 10 }, { start_time: 30, end_time: 40 }), 0);
  });
});

describe('sound_file format from the bytes', () => {
  const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
  it('WAV, MP3 (ID3 or a layer III frame header) and M4A are told apart; others are null', () => {
    assert.equal(sniffSoundBytes(bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')), 'wav');
    assert.equal(sniffSoundBytes(bytes('ID3', [4, 0, 0, 0, 0, 0, 0])), 'mp3');
    assert.equal(sniffSoundBytes(bytes([0xff, 0xfb, 0x90, 0x64])), 'mp3', 'MPEG-1 layer III, 128 kbit/s, 44.1 kHz');
    assert.equal(sniffSoundBytes(bytes([0, 0, 0, 0x20], 'ftypM4A ', [0, 0, 0, 0])), 'm4a');
    assert.equal(sniffSoundBytes(bytes([0xff, 0xf1, 0x50, 0x80])), null, 'ADTS AAC is not MP3');
    assert.equal(sniffSoundBytes(bytes('RIFF', [0, 0, 0, 0], 'AVI LIST')), null);
    assert.equal(sniffSoundBytes(bytes('OggS', [0, 2, 0, 0, 0, 0, 0, 0])), null);
    assert.equal(sniffSoundBytes(bytes('fLaC', [0, 0, 0, 0x22])), null);
    assert.equal(sniffSoundBytes(bytes([0, 0, 0, 0x18], 'ftypheic', [0, 0, 0, 0])), null, 'a HEIF image');
    assert.equal(sniffSoundBytes(Buffer.alloc(0)), null);
  });
});
