import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument, renderOpenApiDocument } from './openapi-document.js';
import type { ApiReference, RouteContract } from './route-contract.js';

const created = z.object({ id: z.string() });
const routes: RouteContract[] = [
  {
    method: 'POST',
    path: '/v1/things',
    summary: 'Makes a thing.',
    body: z.object({ name: z.string().describe('Its name.'), size: z.number().int().default(1) }).strict(),
    responses: {
      201: {
        description: 'Made.',
        body: created,
        links: { fill: { route: 'PUT /v1/things/:id/bytes', params: { id: '$response.body#/id' } } },
      },
      400: { description: 'Bad.', body: 'error' },
    },
  },
  {
    method: 'PUT',
    path: '/v1/things/:id/bytes',
    summary: "Fills a thing's bytes.",
    params: z.object({ id: z.string().regex(/^[a-z]+$/) }),
    query: z.object({ mode: z.enum(['a', 'b']).optional().describe('How.') }),
    headers: z.object({ 'content-range': z.string().optional() }),
    body: 'bytes',
    bodyOptional: true,
    responses: { 204: { description: 'Filled.', headers: { etag: 'Its version.' } } },
  },
];
const reference: ApiReference = { title: 'Things', description: 'A test API.', routes };

describe('openApiDocument', () => {
  it('renders routes, parameters, bodies, answers and links as OpenAPI 3.1', () => {
    const doc = openApiDocument(reference) as {
      paths: Record<string, Record<string, unknown>>;
      components: unknown;
    };
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'Things', version: 'v1' } });
    const post = doc.paths['/v1/things']?.['post'];
    expect(post).toMatchObject({
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              properties: { name: { type: 'string', description: 'Its name.' }, size: { default: 1 } },
              required: ['name'],
              additionalProperties: false,
            },
          },
        },
      },
      responses: {
        '201': {
          content: { 'application/json': { schema: { required: ['id'] } } },
          links: {
            fill: {
              operationRef: '#/paths/~1v1~1things~1{id}~1bytes/put',
              parameters: { id: '$response.body#/id' },
            },
          },
        },
        '400': { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } } },
      },
    });
    expect(post).not.toHaveProperty('requestBody.content.application/json.schema.$schema');
    expect(doc.paths['/v1/things/{id}/bytes']?.['put']).toMatchObject({
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z]+$' } },
        { name: 'mode', in: 'query', required: false, description: 'How.' },
        { name: 'content-range', in: 'header', required: false },
      ],
      requestBody: {
        required: false,
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      responses: { '204': { headers: { etag: { description: 'Its version.' } } } },
    });
    expect(doc.components).toMatchObject({ schemas: { ErrorBody: { required: ['error'] } } });
  });

  it('renders the same text every time', () => {
    expect(renderOpenApiDocument(reference)).toBe(renderOpenApiDocument(reference));
    expect(renderOpenApiDocument(reference).endsWith('}\n')).toBe(true);
  });

  it('refuses contracts that disagree with themselves', () => {
    const [post, put] = routes as [RouteContract, RouteContract];
    const wrongParams = { ...put, params: z.object({ thing: z.string() }) };
    expect(() => openApiDocument({ ...reference, routes: [post, wrongParams] })).toThrow(/path parameters/);
    expect(() => openApiDocument({ ...reference, routes: [post] })).toThrow(/links to PUT/);
    expect(() => openApiDocument({ ...reference, routes: [post, put, put] })).toThrow(/listed twice/);
  });
});
