import type { FastifyError, FastifyInstance } from 'fastify';
import { VigilError } from '../errors/catalogue.js';
import { pathOf } from './request-target.js';

/** What a request that names no route gets (also an /api path that reaches the UI's files). */
export function noRoute(method: string, target: string): VigilError {
  return new VigilError('NOT_FOUND', `no route ${method} ${pathOf(target)}; see docs/ref/api.md`);
}

/**
 * Maps every failure to one JSON shape, { error: { code, message } }, with a stable code from
 * the catalogue, so clients match on codes and users read messages.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(noRoute(request.method, request.url).toJSON());
  });
  app.setErrorHandler((err: FastifyError | VigilError | Error, request, reply) => {
    if (err instanceof VigilError) {
      const retryAfterMs = err.details?.['retryAfterMs'];
      if (typeof retryAfterMs === 'number') void reply.header('retry-after', Math.ceil(retryAfterMs / 1000));
      // 503 means "not yet" (no frame to snapshot), not a fault worth an error in the log.
      if (err.httpStatus >= 500 && err.httpStatus !== 503) request.log.error({ err }, err.message);
      return reply.code(err.httpStatus).send(err.toJSON());
    }
    const fastifyError = err as FastifyError;
    if (fastifyError.validation) {
      const where = fastifyError.validationContext ?? 'request';
      const problems = fastifyError.validation.map((v) => {
        const path = v.instancePath
          ? v.instancePath.slice(1).replaceAll('/', '.')
          : String(v.params?.missingProperty ?? '');
        return `${where}${path ? `.${path}` : ''} ${v.message ?? 'is invalid'}`;
      });
      return reply.code(400).send(new VigilError('REQUEST_INVALID', problems.join('; ')).toJSON());
    }
    const status = fastifyError.statusCode ?? 500;
    if (status === 413) {
      return reply
        .code(413)
        .send(new VigilError('BODY_TOO_LARGE', `the request body is larger than the limit`).toJSON());
    }
    if (status >= 400 && status < 500) {
      return reply.code(status).send(new VigilError('REQUEST_INVALID', fastifyError.message).toJSON());
    }
    request.log.error({ err }, 'unhandled error');
    return reply
      .code(500)
      .send(new VigilError('INTERNAL', 'internal error; the server log has details').toJSON());
  });
}
