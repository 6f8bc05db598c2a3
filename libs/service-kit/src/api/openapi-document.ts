/**
 * A component's OpenAPI 3.1 document, rendered from its route contracts
 * (route-contract.ts). Schemas come from the contracts' zod schemas through
 * `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect): requests as a client
 * writes them (`io: 'input'`), answers as the server sends them (`io: 'output'`).
 * The rendering is deterministic, so a committed document can be checked for staleness
 * by rendering it again.
 */
import { z } from 'zod';
import { errorBodySchema } from './error-body.js';
import type {
  ApiReference,
  RequestBodyContract,
  ResponseContract,
  RouteContract,
  RouteKey,
} from './route-contract.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export type OpenApiDocument = JsonObject;

const ERROR_BODY_REF = { $ref: '#/components/schemas/ErrorBody' };
const BYTES_SCHEMA = { type: 'string', format: 'binary' };

/** The document as JSON text, two-space indented, ending in a newline. */
export function renderOpenApiDocument(reference: ApiReference): string {
  return `${JSON.stringify(openApiDocument(reference), null, 2)}\n`;
}

export function openApiDocument(reference: ApiReference): OpenApiDocument {
  const paths: Record<string, JsonObject> = {};
  const seen = new Set<string>();
  for (const route of reference.routes) {
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) throw new Error(`route ${key} is listed twice`);
    seen.add(key);
    const item = (paths[openApiPath(route.path)] ??= {});
    item[route.method.toLowerCase()] = operation(route, reference.routes);
  }
  return {
    openapi: '3.1.0',
    info: { title: reference.title, version: 'v1', description: reference.description },
    paths,
    components: { schemas: { ErrorBody: jsonSchemaOf(errorBodySchema, 'output') } },
  };
}

function operation(route: RouteContract, routes: readonly RouteContract[]): JsonObject {
  const pathNames = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] as string);
  const parameters = [
    ...parametersOf(route.params, 'path'),
    ...parametersOf(route.query, 'query'),
    ...parametersOf(route.headers, 'header'),
  ];
  const declared = parameters.filter((p) => p.in === 'path').map((p) => p.name);
  if (pathNames.join() !== declared.join()) {
    throw new Error(
      `${route.method} ${route.path}: path parameters [${pathNames.join(', ')}] but params schema [${declared.join(', ')}]`,
    );
  }
  const op: JsonObject = { summary: route.summary };
  if (route.description !== undefined) op.description = route.description;
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body !== undefined) op.requestBody = requestBodyOf(route.body, route.bodyOptional !== true);
  op.responses = Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => [
      status,
      responseOf(response, `${route.method} ${route.path}`, routes),
    ]),
  );
  return op;
}

interface Parameter extends JsonObject {
  name: string;
  in: string;
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query' | 'header'): Parameter[] {
  if (schema === undefined) return [];
  const object = jsonSchemaOf(schema, 'input');
  const properties = (object.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((object.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => {
    const parameter: Parameter = { name, in: where, required: where === 'path' || required.has(name) };
    if (typeof property.description === 'string') parameter.description = property.description;
    parameter.schema = property;
    return parameter;
  });
}

function requestBodyOf(body: RequestBodyContract, required: boolean): JsonObject {
  const content: JsonObject =
    body === 'bytes'
      ? { 'application/octet-stream': { schema: BYTES_SCHEMA } }
      : { 'application/json': { schema: jsonSchemaOf(body, 'input') } };
  return { required, content };
}

function responseOf(response: ResponseContract, from: string, routes: readonly RouteContract[]): JsonObject {
  const out: JsonObject = { description: response.description };
  if (response.headers !== undefined) {
    out.headers = Object.fromEntries(
      Object.entries(response.headers).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
  }
  if (response.body === 'bytes') out.content = { 'application/octet-stream': { schema: BYTES_SCHEMA } };
  else if (response.body === 'error') out.content = { 'application/json': { schema: ERROR_BODY_REF } };
  else if (response.body !== undefined)
    out.content = { 'application/json': { schema: jsonSchemaOf(response.body, 'output') } };
  if (response.links !== undefined) {
    out.links = Object.fromEntries(
      Object.entries(response.links).map(([name, link]) => [
        name,
        { operationRef: operationRef(link.route, from, routes), parameters: { ...link.params } },
      ]),
    );
  }
  return out;
}

/** A JSON pointer to the operation of `key` in this document. */
function operationRef(key: RouteKey, from: string, routes: readonly RouteContract[]): string {
  const [method = '', path = ''] = key.split(' ');
  if (!routes.some((route) => route.method === method && route.path === path))
    throw new Error(`${from} links to ${key}, which is not a route of this document`);
  const pointer = openApiPath(path).replaceAll('~', '~0').replaceAll('/', '~1');
  return `#/paths/${pointer}/${method.toLowerCase()}`;
}

/** `/v1/blobs/:digest` → `/v1/blobs/{digest}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const generated = z.toJSONSchema(schema, { io, target: 'draft-2020-12' });
  const { $schema: _dialect, ...rest } = JSON.parse(JSON.stringify(generated)) as JsonObject;
  // Every schema is inlined; a shared or recursive one would need components of its own.
  if ('$defs' in rest) throw new Error('route schemas must not need $defs');
  return rest;
}
