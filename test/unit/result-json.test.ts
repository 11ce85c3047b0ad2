import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisResult } from '../../src/analysis/types.ts';
import type { IdentifiedVideo } from '../../src/pipeline/identify-file.ts';
import { buildResultJson, summarize } from '../../src/pipeline/result-json.ts';

/** An analysed video with one face and one rejected face: only what summarize() reads. */
function analysed(result: Partial<AnalysisResult>): IdentifiedVideo {
  const timeline = { spans: [{ startMs: 500, endMs: 3000, state: 'usable' as const }], samples: [] };
  const best = { timeMs: 1000, sighting: { confidence: 0.98765 } };
  return {
    info: { durationMs: 3000, width: 1280, height: 720, fps: 30, format: 'mp4' },
    analysis: {
      result: {
        faces: [{ faceId: '0', startMs: 500.2, endMs: 2999.6, best, timeline, speaking: [{ startMs: 800.4, endMs: 1999.5 }, { startMs: 2200, endMs: 2633.33 }] }],
        rejected: [{ reason: 'too_short', startMs: 100, endMs: 400, best, timeline, speaking: [{ startMs: 120.6, endMs: 380.2 }] }],
        audio: { present: true, speech: [{ startMs: 99.5, endMs: 2633.33 }] },
        ...result,
      },
    },
    pictures: [{ file: '/tmp/face_0.jpg', box: { x: 1, y: 2, width: 3, height: 4 } }],
  } as unknown as IdentifiedVideo;
}

describe('result JSON: who speaks', () => {
  it('carries each face\'s speaking and the soundtrack in integer ms, seed fields unchanged', () => {
    const summary = summarize(analysed({}));
    const result = buildResultJson(summary, { imageUrl: (f) => `file://${f.picture_file}`, requestId: 'req_x', sessionId: 'sess_x' });
    assert.equal(result.data.face_data.length, 1);
    const [f] = result.data.face_data;
    assert.deepEqual([f.face_id, f.face_image, f.start_time, f.end_time, f.score], ['0', 'file:///tmp/face_0.jpg', 500, 3000, 0.988]);
    assert.deepEqual(f.speaking, [{ start_time: 800, end_time: 2000 }, { start_time: 2200, end_time: 2633 }]);
    const [r] = result.data.rejected_faces;
    assert.deepEqual([r.reason, r.start_time, r.end_time], ['too_short', 100, 400]);
    assert.deepEqual(r.speaking, [{ start_time: 121, end_time: 380 }]);
    assert.equal('track' in r, false, 'no track in the result JSON');
    assert.deepEqual(result.data.audio, { present: true, speech: [{ start_time: 100, end_time: 2633 }] });
    // the summary a worker thread posts keeps the tracks beside (structured-cloneable plain data)
    assert.deepEqual(structuredClone(summary), summary);
    assert.deepEqual(summary.rejected_faces[0].speaking, [{ start_time: 121, end_time: 380 }]);
  });

  it('a video without a soundtrack: audio.present false, no speech, nobody speaking', () => {
    const silent = analysed({ audio: { present: false, speech: [] } });
    for (const f of [...silent.analysis.result.faces, ...silent.analysis.result.rejected]) f.speaking = [];
    const { data } = buildResultJson(summarize(silent), { imageUrl: () => '' });
    assert.deepEqual(data.audio, { present: false, speech: [] });
    assert.deepEqual([...data.face_data, ...data.rejected_faces].map((f) => f.speaking), [[], []]);
  });
});
