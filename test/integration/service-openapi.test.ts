import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { assertError, startTestService, type TestService } from '../helpers/service.ts';

/** Every registered route as [method, path], read from Fastify's route tree (HEAD left out: it follows GET). */
export function registeredRoutes(app: FastifyInstance): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([\s│]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (depth > 0 ? stack[depth - 1]! : '') + m[2]!;
    stack[depth] = path;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method, path]);
  }
  return out;
}

/** Routes that answer without an API key, and why. Any other route must answer 401 without one. */
const PUBLIC: Array<[RegExp, string]> = [
  [/^\/$/, 'the playground page'],
  [/^\/\*$/, 'the playground\'s static files (web/)'],
  [/^\/web\//, 'the playground\'s static files (web/)'],
  [/^\/docs(\/|$)/, 'the human API docs'],
  [/^\/openapi\.json$/, 'the OpenAPI document'],
  [/^\/healthz$/, 'liveness'],
  [/^\/readyz$/, 'readiness'],
  [/^\/metrics$/, 'Prometheus metrics'],
  [/^\/files\/:name$/, 'face pictures: the URL\'s signature is the key'],
];

const isPublic = (path: string) => PUBLIC.some(([re]) => re.test(path));

describe('service: OpenAPI a generator can use, and every non-public route needs a key', () => {
  let t: TestService;
  let spec: any;

  before(async () => {
    t = await startTestService();
    const r = await t.api('GET', '/openapi.json', { key: null });
    assert.equal(r.status, 200, r.text);
    spec = r.json;
  });
  after(async () => {
    await t?.close();
  });

  it('the schemas are named components, referenced with $ref, no def-N', () => {
    const names = Object.keys(spec.components.schemas);
    for (const name of ['Task', 'ResultJson', 'FaceData', 'RejectedFace', 'Video', 'Session', 'Tracks', 'FrameTracks', 'LipSyncCheck', 'Error']) {
      assert.ok(names.includes(name), `component ${name} among ${names.join(', ')}`);
    }
    for (const name of names) assert.match(name, /^[A-Z][A-Za-z]+$/, `component name ${name} is a type name`);
    const text = JSON.stringify(spec);
    assert.doesNotMatch(text, /def-\d+/, 'no def-N names or references');
    for (const [, ref] of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) assert.ok(spec.components.schemas[ref!], `$ref to ${ref} resolves`);
    const ok = (path: string, method: string, status = '200') => spec.paths[path][method].responses[status].content['application/json'].schema.$ref;
    assert.equal(ok('/model/v1/generation', 'post'), '#/components/schemas/Task');
    assert.equal(ok('/model/v1/generation/{task_id}', 'get'), '#/components/schemas/Task');
    assert.equal(ok('/v1/videos/identify-face', 'post'), '#/components/schemas/ResultJson');
    assert.equal(ok('/v1/videos', 'post', '201'), '#/components/schemas/Video');
    assert.equal(ok('/v1/sessions/{session_id}', 'get'), '#/components/schemas/Session');
    assert.equal(ok('/v1/sessions/{session_id}/lip-sync-check', 'post'), '#/components/schemas/LipSyncCheck');
    assert.equal(ok('/model/v1/generation/{task_id}', 'get', '404'), '#/components/schemas/Error');
    const result = spec.components.schemas.ResultJson;
    assert.equal(result.properties.data.properties.face_data.items.$ref, '#/components/schemas/FaceData');
    assert.equal(result.properties.data.properties.rejected_faces.items.$ref, '#/components/schemas/RejectedFace');
    assert.match(spec.components.schemas.Task.properties.output.description, /ResultJson/, 'Task says its text is a ResultJson');
  });

  it('the main schemas carry examples, and each example has only declared fields', () => {
    for (const name of ['Task', 'ResultJson', 'FaceData', 'RejectedFace', 'Video', 'Session', 'Error']) {
      const s = spec.components.schemas[name];
      assert.ok(Array.isArray(s.examples) && s.examples.length > 0, `${name} has examples`);
      for (const key of Object.keys(s.examples[0])) assert.ok(s.properties[key], `${name} example field ${key} is declared`);
    }
  });

  it('every operation has a unique camelCase operationId', () => {
    const ids: string[] = [];
    for (const [path, ops] of Object.entries<any>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        assert.match(op.operationId ?? '', /^[a-z][A-Za-z]+$/, `${method.toUpperCase()} ${path} has an operationId`);
        ids.push(op.operationId);
      }
    }
    assert.equal(new Set(ids).size, ids.length, `unique: ${ids.join(', ')}`);
    for (const id of ['createTask', 'getTask', 'listTasks', 'cancelTask', 'uploadVideo', 'getVideo', 'deleteVideo', 'identifyFaceSync', 'getSession', 'getTaskTracks', 'getSessionTracks', 'checkLipSyncPlan', 'getFaceImage']) {
      assert.ok(ids.includes(id), `${id} among ${ids.join(', ')}`);
    }
  });

  it('every registered route not on the public list answers 401 014001001 without a key', async () => {
    const routes = registeredRoutes(t.svc.app);
    const keyed = routes.filter(([, path]) => !isPublic(path));
    // the enumeration works: it finds the routes we know are keyed
    for (const known of ['POST /model/v1/generation', 'GET /model/v1/generation/:task_id', 'DELETE /v1/videos/:video_id', 'POST /v1/sessions/:session_id/lip-sync-check', 'GET /v1/sessions/:session_id/tracks']) {
      assert.ok(keyed.some(([m, p]) => `${m} ${p}` === known), `${known} among ${keyed.map((r) => r.join(' ')).join(', ')}`);
    }
    for (const [method, path] of keyed) {
      const url = path.replace(/:([a-z_]+)/g, (_m, name: string) => `${name.split('_')[0]}_abc`).replace(/\*$/, 'x');
      const r = await t.api(method, url, { key: null, body: method === 'POST' ? {} : undefined });
      assertError(r, 401, '014001001', `${method} ${path} without a key`);
    }
  });

  it('the public routes answer without a key', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/']) {
      const r = await t.api('GET', path, { key: null });
      assert.equal(r.status, 200, `${path}: ${r.status}`);
    }
  });
});
