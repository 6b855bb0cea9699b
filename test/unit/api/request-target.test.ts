import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf, requestTargetProblem } from '../../../src/api/request-target.js';
import { spellings } from '../../helpers/path-corpus.js';

test('canonical paths pass, with or without a query string', () => {
  for (const target of [
    '/',
    '/api/users',
    '/api/cameras/front-door/segments/12/0-1024.m4s',
    '/api/cameras/cam/export.mp4?from=1&to=2',
    '/api/events?cursor=%2F..%2F',
    '/assets/index-NgdEYu8Q.js',
    '/index.html',
    '/metrics',
  ]) {
    assert.equal(requestTargetProblem(target), null, target);
  }
});

test('every other spelling of a route is refused, with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['/%61pi/users', /percent-encoded/],
    ['/api/%2e%2e/users', /percent-encoded/],
    ['/api//users', /empty path segments/],
    ['//api/users', /empty path segments/],
    ['/api/users/', /must not end with \//],
    ['/api/./users', /dot segments/],
    ['/api/x/../users', /dot segments/],
    ['/api/users;jsessionid=1', /matrix parameters/],
    ['/API/users', /lower case/],
    ['/api/Users', /lower case/],
    ['/METRICS', /lower case/],
    ['/Metrics', /lower case/],
    ['/metrics/', /must not end with \//],
    ['/%6detrics', /percent-encoded/],
    ['/api\\users', /unreserved/],
    ['/api/users\u0000', /unreserved/],
    ['/api/users#x', /unreserved/],
    ['http://127.0.0.1/api/users', /must be a path/],
    ['*', /must be a path/],
    ['', /no path/],
  ];
  for (const [target, reason] of cases)
    assert.match(requestTargetProblem(target) ?? 'passed', reason, target);
  assert.equal(requestTargetProblem(undefined), 'the request has no path');
});

test('the attack corpus: only the canonical spellings pass', () => {
  for (const path of [
    '/api/users',
    '/api/cameras/cam/segments/1/0-10.m4s',
    '/api/cameras/cam/export.mp4',
    '/metrics',
  ]) {
    for (const spelling of spellings(path, 8080)) {
      assert.equal(requestTargetProblem(spelling.target) === null, spelling.canonical, spelling.name);
    }
  }
});

test('pathOf drops the query string', () => {
  assert.equal(pathOf('/api/users?x=1'), '/api/users');
  assert.equal(pathOf('/api/users'), '/api/users');
});
